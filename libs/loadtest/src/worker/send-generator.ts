import { Pool } from 'undici';
import type { LoadPopulation } from '../accounts/load-accounts.types';
import { encodeSendKey } from '../schedule/send-key';
import type { ArrivalSchedule } from '../schedule/arrival-schedule';
import { isIpv4LoopbackUrl } from '../targets/resolved-target';
import type { PoolEntry } from './sealed-pool';
import type { WorkerBook } from './worker-ledger';

const nowMs = () => performance.timeOrigin + performance.now();
const REQUEST_TIMEOUT_MS = 60_000;
const CONNECTIONS_PER_RELAY = 128;

export interface GeneratorArgs {
  book: WorkerBook;
  entries: PoolEntry[];
  /** Every send has its own entry (`--verify`): entry = seq, never reused. */
  uniqueEntries: boolean;
  relayUrls: string[];
  population: LoadPopulation;
  schedule: ArrivalSchedule;
  runTag: number;
  worker: number;
  workers: number;
  maxInFlight: number;
  sealedShare: number;
  /** Source address for the requests to relays on IPv4 loopback (others: the system's choice). */
  localAddress?: string;
}

/**
 * This worker's share of the open-model load: its arrivals (g ≡ worker mod workers) come due at
 * their intended times on a 1 ms timer, whatever happened to earlier ones. Each is the next
 * pooled entry sent as `PUT /v1/messages/{address}` to the sender's home relay with the send's
 * own key in `timestamp`; sealed (Unidentified-Access-Key) with `sealedShare` odds, else as the
 * device (bearer token). Past `maxInFlight` unanswered requests, due sends wait for a slot
 * (counted; their latency still runs from the intended time).
 */
export class SendGenerator {
  private readonly pools: Pool[];
  private readonly prefixes: string[];
  private readonly waiting: number[] = [];
  private t0 = 0;
  private issued = 0;
  private outstanding = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly total: number;
  private idle?: () => void;

  constructor(private readonly args: GeneratorArgs) {
    this.total = args.schedule.totalForWorker(args.worker, args.workers);
    this.pools = args.relayUrls.map(
      (url) =>
        new Pool(new URL(url).origin, {
          connections: CONNECTIONS_PER_RELAY,
          pipelining: 1,
          headersTimeout: REQUEST_TIMEOUT_MS,
          bodyTimeout: REQUEST_TIMEOUT_MS,
          ...(args.localAddress && isIpv4LoopbackUrl(url) ? { localAddress: args.localAddress } : {}),
        }),
    );
    this.prefixes = args.relayUrls.map((url) => new URL(url).pathname.replace(/\/+$/, ''));
  }

  start(t0EpochMs: number): void {
    this.t0 = t0EpochMs;
    const tick = (): void => {
      if (this.stopped) return;
      const due = this.args.schedule.dueForWorker((nowMs() - this.t0) / 1000, this.args.worker, this.args.workers);
      while (this.issued < due) {
        const seq = this.issued++;
        const delayed = this.outstanding >= this.args.maxInFlight;
        this.args.book.due(seq, delayed);
        if (delayed) this.waiting.push(seq);
        else this.send(seq);
      }
      if (this.issued < this.total) this.timer = setTimeout(tick, 1);
    };
    this.timer = setTimeout(tick, Math.max(0, this.t0 - nowMs()));
  }

  /** Issues nothing more (due sends still waiting for a slot are dropped: they were never sent). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.waiting.length = 0;
    if (this.outstanding === 0) this.idle?.();
  }

  /** Requests in flight plus due sends waiting for a slot. */
  inFlight(): number {
    return this.outstanding + this.waiting.length;
  }

  /** Resolves once every issued request is answered and nothing waits (after the last arrival or `stop()`). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = () =>
        this.outstanding === 0 && this.waiting.length === 0 && (this.stopped || this.issued >= this.total) ? resolve() : undefined;
      this.idle = check;
      check();
    });
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.pools.map((p) => p.destroy()));
  }

  private send(seq: number): void {
    const { args } = this;
    const entry = args.entries[args.uniqueEntries ? seq : seq % args.entries.length];
    const intended = this.t0 + 1000 * args.book.intendedSeconds(args.worker, seq);
    this.outstanding++;
    args.book.issued(seq);
    void this.sendEntry(entry, encodeSendKey(args.runTag, args.worker, seq)).then((status) => {
      args.book.answered(seq, status, entry.devices, nowMs() - intended);
      this.outstanding--;
      const next = this.stopped ? undefined : this.waiting.shift();
      if (next !== undefined) this.send(next);
      this.idle?.();
    });
  }

  /**
   * Sends one pooled entry with `timestamp` (the send's key), sealed with `sealedShare` odds;
   * resolves with the answer's status, or 0 when there was none (refused connection, reset,
   * timeout). Never rejects.
   */
  async sendEntry(entry: PoolEntry, timestamp: number): Promise<number> {
    const { args } = this;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (Math.random() < args.sealedShare) headers['unidentified-access-key'] = args.population.accounts[entry.recipient].accessKey;
    else headers.authorization = `Bearer ${args.population.devices[entry.sender].token}`;
    const body = `{"timestamp":${timestamp}${entry.bodyTail}`;
    try {
      const answer = await this.pools[entry.target].request({
        method: 'PUT',
        path: this.prefixes[entry.target] + entry.path,
        headers,
        body,
      });
      await answer.body.dump().catch(() => undefined);
      return answer.statusCode;
    } catch {
      return 0;
    }
  }
}
