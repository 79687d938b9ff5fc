import type { EnvelopeJson } from '../../libs/contracts/src';
import type { TestAccount } from './accounts';
import { call } from './http';

/**
 * A stream of sends with distinct content (a counter), driven by a few concurrent workers, that
 * records which sends were answered 2xx and which failed (status or connection error). It keeps
 * going through failures (with a short back-off) until told to stop, so a test can kill or
 * restart things underneath it and then let it carry on.
 */
export interface SendFailure {
  n: number;
  why: string;
}

export class SendStream {
  /** Counters answered 2xx, in answer order. */
  readonly ok: number[] = [];
  readonly failures: SendFailure[] = [];
  /** For each counter: when its send began and when it was answered (ms since epoch). */
  readonly began = new Map<number, number>();
  readonly answered = new Map<number, number>();
  private next = 0;
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly sendOne: (n: number) => Promise<number>,
    private readonly options: { concurrency: number; failureBackoffMs?: number; limit?: number },
  ) {}

  get issued(): number {
    return this.next;
  }

  start(): this {
    for (let i = 0; i < this.options.concurrency; i++) this.workers.push(this.work());
    return this;
  }

  /** Resolves once `predicate` holds (polled), failing after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs: number, what = 'stream condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(
          `${what} not reached in ${timeoutMs} ms (ok=${this.ok.length}, failures=${this.failures.length}, issued=${this.next})`,
        );
      await sleep(10);
    }
  }

  /** Stops issuing new sends and waits for the ones in flight to be answered. */
  async finish(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    while (!this.stopped && (this.options.limit === undefined || this.next < this.options.limit)) {
      const n = this.next++;
      this.began.set(n, Date.now());
      let why: string | null = null;
      try {
        const status = await this.sendOne(n);
        if (status >= 200 && status < 300) this.ok.push(n);
        else why = `status ${status}`;
      } catch (error) {
        why = describeError(error);
      }
      this.answered.set(n, Date.now());
      if (why !== null) {
        this.failures.push({ n, why });
        await sleep(this.options.failureBackoffMs ?? 100);
      }
    }
  }
}

/** `fetch failed (ECONNREFUSED)` etc.: the code of the underlying socket error, when there is one. */
export function describeError(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : String(e.message ?? error);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The content of send number `n` of run `tag` (opaque to the relay; base64 as the API wants). */
export function streamContent(tag: string, n: number): string {
  return Buffer.from(`${tag}:${n}`).toString('base64');
}

/** The counter carried by an envelope of run `tag`, or null for anything else. */
export function streamCounter(tag: string, envelope: EnvelopeJson): number | null {
  const text = Buffer.from(envelope.content, 'base64').toString('utf8');
  const match = /^(.*):(\d+)$/.exec(text);
  return match && match[1] === tag ? Number(match[2]) : null;
}

/** One identified send of counter `n` from `sender` to device 1 of `recipient`; answers the HTTP status. */
export function identifiedSend(relayUrl: () => string, sender: TestAccount, recipient: TestAccount, tag: string) {
  return async (n: number): Promise<number> => {
    const res = await call('PUT', `${relayUrl()}/v1/messages/${recipient.address}`, {
      token: sender.token,
      body: {
        timestamp: Date.now(),
        messages: [{ deviceId: 1, registrationId: recipient.registrationId, type: 1, content: streamContent(tag, n) }],
      },
    });
    return res.status;
  };
}

/**
 * What a recipient got, checked against what the senders were told: every 2xx'd counter was
 * received at least once; after dedupe on `id`, no counter came under two ids (nothing stored
 * twice); nothing foreign arrived. Returns a summary for messages and further checks.
 */
export function checkDeliveries(tag: string, okCounters: number[], issued: number, received: EnvelopeJson[]) {
  const byId = new Map<string, number>();
  const foreign: string[] = [];
  for (const envelope of received) {
    const n = streamCounter(tag, envelope);
    if (n === null || n >= issued) foreign.push(envelope.id);
    else byId.set(envelope.id, n);
  }
  const idsPerCounter = new Map<number, number>();
  for (const n of byId.values()) idsPerCounter.set(n, (idsPerCounter.get(n) ?? 0) + 1);
  const missing = okCounters.filter((n) => !idsPerCounter.has(n)).sort((a, b) => a - b);
  const storedTwice = [...idsPerCounter]
    .filter(([, ids]) => ids > 1)
    .map(([n]) => n)
    .sort((a, b) => a - b);
  const okSet = new Set(okCounters);
  const extra = [...idsPerCounter.keys()].filter((n) => !okSet.has(n)).sort((a, b) => a - b);
  return { missing, storedTwice, foreign, extra, distinct: idsPerCounter.size, redelivered: received.length - foreign.length - byId.size };
}

/** Every 2xx'd send arrived, none is stored twice, nothing foreign arrived. */
export function expectEachAnsweredSendDeliveredOnce(result: ReturnType<typeof checkDeliveries>): void {
  expect({ missing: result.missing, storedTwice: result.storedTwice, foreign: result.foreign }).toEqual({
    missing: [],
    storedTwice: [],
    foreign: [],
  });
}

/** Positions where a sequence of counters goes down (empty when strictly increasing). */
export function orderViolations(counters: number[]): { at: number; previous: number; next: number }[] {
  const violations: { at: number; previous: number; next: number }[] = [];
  for (let i = 1; i < counters.length; i++) {
    if (counters[i] <= counters[i - 1]) violations.push({ at: i, previous: counters[i - 1], next: counters[i] });
  }
  return violations;
}
