/**
 * A token bucket held in memory by one socket: `burst` frames at once, refilled at
 * `perSecond`, and one more frame earned by every envelope the relay sends on the socket (its
 * ack), so a client acking a large backlog one envelope per frame is never cut off, while frames
 * that answer nothing stay within the rate. It lives and dies with its connection, so it needs no
 * Redis and no expiry; a client that reconnects to dodge it pays a new authenticated upgrade each time.
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

  /** One frame earned (an envelope was sent on the socket); earned frames are not capped by `burst`. */
  earn(): void {
    this.tokens += 1;
  }

  /** Takes one frame's token; false when the socket is over its rate. */
  take(): boolean {
    const now = this.now();
    if (this.tokens < this.burst) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
