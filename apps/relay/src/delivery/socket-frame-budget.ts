/**
 * A token bucket held in memory by one socket: `burst` frames at once, refilled at
 * `perSecond`. It lives and dies with its connection, so it needs no Redis and no expiry; a
 * client that reconnects to dodge it pays a new authenticated upgrade each time.
 */
export class SocketFrameBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = this.now();
  }

  /** Takes one frame's token; false when the socket is over its rate. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
