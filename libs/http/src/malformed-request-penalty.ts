import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** How many malformed requests an address may send (`burst`), refilled at `perSecond`. */
export interface MalformedRequestBudget {
  burst: number;
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The host's own address is never boxed: local health checks and tools use it, and a reverse
 * proxy on the same host that TRUST_PROXY was not set for would make every user share it.
 */
const NEVER_BOXED = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The box of each HTTP server it guards, for the server's other listeners (WebSocket upgrades) to charge. */
const BOX_OF_SERVER = new WeakMap<Server, MalformedRequestPenalty>();

/**
 * Charges one malformed request from `address` to the penalty box guarding `server` (none behind
 * TRUST_PROXY: then nothing happens). For what Fastify never sees: a malformed WebSocket upgrade.
 */
export function chargeMalformedRequest(server: Server, address: string | undefined): void {
  BOX_OF_SERVER.get(server)?.charge(address);
}

/** Addresses tracked at most; the fullest buckets (well-behaved addresses) are forgotten first. */
const MAX_TRACKED_ADDRESSES = 100_000;

/**
 * A penalty box for client addresses that send requests Node or the router cannot even take
 * (unparseable, headers too large, too slow, no `Host`, a malformed WebSocket handshake): each
 * costs a token of the address's bucket; an address with none left has its new connections
 * closed at accept, before a byte is parsed, until a token has grown back (1/perSecond s).
 * Such refusals are cheap to make and costly to answer, and no client that follows HTTP sends
 * them twice in a row. Behind a reverse proxy the TCP peer is the proxy, so the box is off
 * there (the proxy must do this job), and the host's own address is never boxed.
 */
export class MalformedRequestPenalty {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly budget: MalformedRequestBudget,
    private readonly onRefusedConnection: () => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one malformed request from `address`. */
  charge(address: string | undefined): void {
    if (address === undefined || NEVER_BOXED.has(address)) return;
    const bucket = this.refilled(address);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(address, bucket);
    if (this.buckets.size > MAX_TRACKED_ADDRESSES) this.forgetFullest();
  }

  /** Whether `address` is in the box now (no token left). */
  boxed(address: string | undefined): boolean {
    if (address === undefined || !this.buckets.has(address)) return false;
    return this.refilled(address).tokens < 1;
  }

  /** Closes new connections of boxed addresses as they are accepted. */
  guard(server: Server): void {
    BOX_OF_SERVER.set(server, this);
    server.prependListener('connection', (socket: Socket) => {
      if (!this.boxed(socket.remoteAddress)) return;
      this.onRefusedConnection();
      socket.destroy();
    });
  }

  private refilled(address: string): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(address) ?? { tokens: this.budget.burst, at: now };
    bucket.tokens = Math.min(this.budget.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.budget.perSecond);
    bucket.at = now;
    return bucket;
  }

  private forgetFullest(): void {
    for (const [address] of this.buckets) {
      if (this.refilled(address).tokens >= this.budget.burst) this.buckets.delete(address);
    }
  }
}
