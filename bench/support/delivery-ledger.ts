/**
 * Bookkeeping of an open-model send → deliver bench: every send `seq` carries this run's magic and
 * `seq` in the first 8 bytes of its content; the ledger records each send's answer, each arrival
 * on a recipient socket (duplicates, misrouting, foreign content), the latencies from the INTENDED
 * send time, per-second figures, and prints the report lines the relay and federation benches share.
 */
import { randomBytes } from 'node:crypto';
import type { IntervalHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher, Pool } from 'undici';
import { LatencyHistogram } from './histogram';
import { intendedNs } from './open-loop';
import type { ReceivedEnvelope } from './ws-receiver';

export const MIN_CONTENT = 64;
export const MAX_CONTENT = 512;
/** Content header: 4 bytes of this run's magic, 4 bytes of the send's sequence number. */
export const HEADER_BYTES = 8;

export const fmt = (value: number): string => value.toFixed(2);
export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

export interface LedgerTally {
  okTotal: number;
  lost: number;
  receivedWithoutOk: number;
  duplicateSeqs: number;
  okMeasured: number;
  deliveredMeasured: number;
}

/** The last 64 base64 characters of a sealed envelope: its MAC and ciphertext tail, unique per sealing. */
const sealedKeyOf = (base64: string): string => base64.slice(-64);

export class DeliveryLedger {
  readonly magic = randomBytes(4).readUInt32BE(0);
  readonly total: number;
  readonly warmupCount: number;
  readonly recipientOf: Int32Array;
  readonly statusOf: Uint16Array; // 0 = no answer (yet) or network error
  readonly receivedCount: Uint8Array;
  private readonly seenIds = new Set<string>();
  duplicateIds = 0;
  misrouted = 0;
  foreign = 0;
  receivedTotal = 0;
  receivedInWindow = 0;
  readonly latency = new LatencyHistogram(); // measured sends: intended send → delivered
  readonly acceptLatency = new LatencyHistogram(); // measured sends: intended send → 2xx answer
  readonly issueLag = new LatencyHistogram(); // measured sends: intended → actually issued by this client
  readonly statusCounts = new Map<string, number>();
  firstError = '';
  t0 = 0n;
  windowStart = 0n;
  windowEnd = 0n;
  private readonly slots: number;
  /** Per second since t0 (warm-up included): deliveries, 2xx answers, delivery latencies, outstanding at its end. */
  readonly perSecond: { delivered: number; ok: number; latency: LatencyHistogram; outstanding: number }[];
  private readonly randomPool = randomBytes(1 << 20);
  /** Sealed content (its key, `sealedKeyOf`) → the seq it was last sent as: ciphertext cannot carry a readable header. */
  private readonly sealedSeqs = new Map<string, number>();

  constructor(readonly options: { rate: number; warmup: number; seconds: number }) {
    this.total = Math.round(options.rate * (options.warmup + options.seconds));
    this.warmupCount = Math.round(options.rate * options.warmup);
    this.recipientOf = new Int32Array(this.total).fill(-1);
    this.statusOf = new Uint16Array(this.total);
    this.receivedCount = new Uint8Array(this.total);
    this.slots = Math.ceil(options.warmup + options.seconds) + 1;
    this.perSecond = Array.from({ length: this.slots }, () => ({ delivered: 0, ok: 0, latency: new LatencyHistogram(), outstanding: 0 }));
  }

  /** Starts the clock: t0 5 ms from now, the measured window after the warm-up. */
  startClock(): void {
    this.t0 = process.hrtime.bigint() + 5_000_000n;
    this.windowStart = this.t0 + BigInt(Math.round(this.options.warmup * 1e9));
    this.windowEnd = this.windowStart + BigInt(Math.round(this.options.seconds * 1e9));
  }

  secondOf(ns: bigint): number {
    return Math.max(0, Math.min(this.slots - 1, Math.floor(Number(ns - this.t0) / 1e9)));
  }

  intended(seq: number): bigint {
    return intendedNs(this.t0, this.options.rate, seq);
  }

  /** Content of `size` random bytes headed by the magic and `seq`. */
  content(seq: number): Buffer {
    const size = MIN_CONTENT + Math.floor(Math.random() * (MAX_CONTENT - MIN_CONTENT + 1));
    const content = Buffer.allocUnsafe(size);
    content.writeUInt32BE(this.magic, 0);
    content.writeUInt32BE(seq >>> 0, 4);
    const offset = Math.floor(Math.random() * (this.randomPool.length - size));
    this.randomPool.copy(content, HEADER_BYTES, offset, offset + size - HEADER_BYTES);
    return content;
  }

  /**
   * Notes that send `seq` carries the pre-sealed `content` (base64). A pooled envelope sent again
   * is bound to its newer seq: an arrival of the older send after that counts for the newer one,
   * which only happens when a delivery takes longer than the pool lasts.
   */
  bindSealed(seq: number, content: string): void {
    this.sealedSeqs.set(sealedKeyOf(content), seq);
  }

  private seqOf(base64: string): number | undefined {
    const sealed = this.sealedSeqs.get(sealedKeyOf(base64));
    if (sealed !== undefined) return sealed;
    const content = Buffer.from(base64, 'base64');
    if (content.length < HEADER_BYTES || content.readUInt32BE(0) !== this.magic) return undefined;
    return content.readUInt32BE(4);
  }

  /**
   * Records an arrival on recipient `recipientIndex`'s socket. Returns its seq if it is one of this
   * run's sends (`reservedSeq`, when given, is returned without being counted), else undefined (foreign).
   */
  receive(envelope: ReceivedEnvelope, recipientIndex: number, now: bigint, reservedSeq?: number): number | undefined {
    if (this.seenIds.has(envelope.id)) this.duplicateIds++;
    else this.seenIds.add(envelope.id);
    const seq = this.seqOf(envelope.content);
    if (seq === undefined) {
      this.foreign++;
      return undefined;
    }
    if (seq === reservedSeq) return seq;
    if (seq >= this.total) {
      this.foreign++;
      return undefined;
    }
    this.receivedTotal++;
    if (this.receivedCount[seq] < 255) this.receivedCount[seq]++;
    if (this.recipientOf[seq] !== recipientIndex) this.misrouted++;
    if (now >= this.windowStart && now < this.windowEnd) this.receivedInWindow++;
    const slot = this.perSecond[this.secondOf(now)];
    slot.delivered++;
    if (this.receivedCount[seq] === 1) {
      slot.latency.recordSince(this.intended(seq));
      if (seq >= this.warmupCount) this.latency.recordSince(this.intended(seq));
    }
    return seq;
  }

  /** Issues send `seq` on `pool` and records its answer; `onOk` runs at a 2xx with its arrival time. */
  async send(pool: Pool, seq: number, request: Dispatcher.RequestOptions, onOk?: (now: bigint) => void): Promise<void> {
    if (seq >= this.warmupCount) this.issueLag.recordSince(this.intended(seq));
    try {
      const answer = await pool.request(request);
      const status = answer.statusCode;
      if (status >= 200 && status < 300) {
        await answer.body.dump();
        const now = process.hrtime.bigint();
        onOk?.(now);
        this.perSecond[this.secondOf(now)].ok++;
        if (seq >= this.warmupCount) this.acceptLatency.recordSince(this.intended(seq));
      } else {
        const text = await answer.body.text();
        if (!this.firstError) this.firstError = `${status} ${text.slice(0, 300)}`;
      }
      this.statusOf[seq] = status;
      this.statusCounts.set(String(status), (this.statusCounts.get(String(status)) ?? 0) + 1);
    } catch (error) {
      const key = `error:${(error as { code?: string }).code ?? (error as Error).name}`;
      this.statusCounts.set(key, (this.statusCounts.get(key) ?? 0) + 1);
      if (!this.firstError) this.firstError = `${key} ${(error as Error).message}`;
    }
  }

  isOk(seq: number): boolean {
    return this.statusOf[seq] >= 200 && this.statusOf[seq] < 300;
  }

  /**
   * Waits for every answer (at most 120 s after the sends), then for every 2xx'd send to arrive (at
   * most `drainSeconds`), then 500 ms for late duplicates. Returns the seconds since the last answer.
   */
  async drain(pending: () => boolean, drainSeconds: number): Promise<number> {
    const sendsDoneAt = Date.now();
    while (pending() && Date.now() - sendsDoneAt < 120_000) await sleep(20);
    const answersDoneAt = Date.now();
    const missing = (): number => {
      let n = 0;
      for (let i = 0; i < this.total; i++) if (this.isOk(i) && this.receivedCount[i] === 0) n++;
      return n;
    };
    while (missing() > 0 && Date.now() - answersDoneAt < drainSeconds * 1000) await sleep(50);
    await sleep(500); // late duplicates, if any
    return (Date.now() - answersDoneAt) / 1000;
  }

  tally(): LedgerTally {
    const out: LedgerTally = { okTotal: 0, lost: 0, receivedWithoutOk: 0, duplicateSeqs: 0, okMeasured: 0, deliveredMeasured: 0 };
    for (let i = 0; i < this.total; i++) {
      const ok = this.isOk(i);
      if (ok) out.okTotal++;
      if (ok && this.receivedCount[i] === 0) out.lost++;
      if (!ok && this.receivedCount[i] > 0) out.receivedWithoutOk++;
      if (this.receivedCount[i] > 1) out.duplicateSeqs++;
      if (i >= this.warmupCount) {
        if (ok) out.okMeasured++;
        if (this.receivedCount[i] > 0) out.deliveredMeasured++;
      }
    }
    return out;
  }

  non2xx(): Record<string, number> {
    return Object.fromEntries([...this.statusCounts].filter(([k]) => !/^2\d\d$/.test(k)));
  }

  offeredLine(): string {
    return `offered          ${this.options.rate.toFixed(0)} envelopes/s  (${this.total - this.warmupCount} measured sends, ${this.total} in all)`;
  }

  deliverLine(): string {
    const h = this.latency;
    return `send → deliver   p50 ${fmt(h.percentileMs(50))}  p99 ${fmt(h.percentileMs(99))}  p99.9 ${fmt(h.percentileMs(99.9))}  max ${fmt(h.maxMs)} ms  (from the INTENDED send time; ${h.count} samples)`;
  }

  acceptLine(note = ''): string {
    const h = this.acceptLatency;
    return `send → 2xx       p50 ${fmt(h.percentileMs(50))}  p99 ${fmt(h.percentileMs(99))}  p99.9 ${fmt(h.percentileMs(99.9))}  max ${fmt(h.maxMs)} ms${note}`;
  }

  scheduleLine(loopDelay: IntervalHistogram, peakOutstanding: number, maxOutstanding: number, waitedForSlot: number): string {
    return (
      `client schedule  issue lag p99 ${fmt(this.issueLag.percentileMs(99))} max ${fmt(this.issueLag.maxMs)} ms; event-loop delay p99 ${fmt(loopDelay.percentile(99) / 1e6)} max ${fmt(loopDelay.max / 1e6)} ms; ` +
      `peak outstanding ${peakOutstanding}, waited for a slot (cap ${maxOutstanding}) ${waitedForSlot}`
    );
  }

  httpLine(okTotal: number, unanswered: number): string {
    return `http             2xx ${okTotal} of ${this.total}; non-2xx ${JSON.stringify(this.non2xx())}${unanswered ? `; unanswered ${unanswered}` : ''}`;
  }

  perSecondLines(): string {
    const { warmup, seconds } = this.options;
    return (
      `per second (s: 2xx/s delivered/s p50/p99 ms, outstanding at end; first ${warmup} s warm-up):\n` +
      this.perSecond
        .slice(0, Math.ceil(warmup + seconds))
        .map(
          (p, i) =>
            `  ${String(i).padStart(2)}: ${p.ok} ${p.delivered} ${p.latency.percentileMs(50).toFixed(0)}/${p.latency.percentileMs(99).toFixed(0)} ${p.outstanding}`,
        )
        .join('\n')
    );
  }
}
