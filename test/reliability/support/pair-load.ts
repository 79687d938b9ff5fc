import { randomBytes } from 'node:crypto';
import type { SealedAccount } from '../../support/relay-testkit';
import { primary, send } from '../../support/relay-testkit';
import { describeError, sleep } from '../../support/send-stream';

/** Signal's envelope types, carried opaquely: 1 whisper ciphertext, 6 sealed sender. */
const CIPHERTEXT = 1;
const SEALED_SENDER = 6;

/** A sender device: identified (bearer token of its account's device 1) or sealed (no token: the recipient's access key). */
export interface SenderDevice {
  label: string;
  relayUrl: string;
  account: SealedAccount;
  sealed: boolean;
}
/** A recipient device: device 1 of an account with an unidentified-access key. */
export interface RecipientDevice {
  label: string;
  account: SealedAccount;
}

/** One sender-device → recipient-device pair and everything its sends were told. */
export interface PairLedger {
  key: string;
  sealed: boolean;
  federated: boolean;
  /** seq → when its first attempt began (ms since epoch). */
  readonly firstAttemptAt: Map<number, number>;
  /** seq → when it was answered 2xx. */
  readonly acceptedAt: Map<number, number>;
}

export interface PairLoadOptions {
  /** Pause after each 2xx'd send of a pair (keeps the load steady, not flat out). */
  pauseMs: number;
  /** Back-off before retrying a send that failed. */
  retryMs: number;
  /** A send not answered in this long is abandoned and retried (same Idempotency-Key). */
  attemptTimeoutMs: number;
}

/** The content of send `seq` of `pair` in run `tag`: what the audit reads back from each envelope. */
export function pairContent(tag: string, pair: string, seq: number): string {
  return `${tag}|${pair}|${seq}`;
}

/** Parses an envelope's (base64) content back into pair and seq; null for another run's or foreign content. */
export function parsePairContent(tag: string, base64: string): { pair: string; seq: number } | null {
  const match = /^([^|]+)\|([^|]+)\|(\d+)$/.exec(Buffer.from(base64, 'base64').toString('utf8'));
  return match && match[1] === tag ? { pair: match[2], seq: Number(match[3]) } : null;
}

/**
 * A steady load over every sender-device → recipient-device pair. Each pair is driven by its own
 * worker that sends strictly one after another: send `seq` begins only after `seq - 1` was
 * answered 2xx, so the pair's order is fully defined and the contract says it must be delivered
 * in that order. A failed send (non-2xx, connection error, no answer in time) is retried with the
 * SAME seq, content and Idempotency-Key until it is answered 2xx or the load stops — as a client
 * app retries — so a send stored twice shows up as two envelope ids carrying one seq.
 */
export class PairLoad {
  readonly pairs: PairLedger[] = [];
  /** Failed attempts by reason ("status 503", "fetch failed (ECONNREFUSED)", "no answer in 30000 ms"). */
  readonly failures = new Map<string, number>();
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(
    readonly tag: string,
    private readonly senders: SenderDevice[],
    private readonly recipients: RecipientDevice[],
    private readonly serverOf: (device: { account: SealedAccount }) => string,
    private readonly options: PairLoadOptions,
  ) {}

  start(): this {
    for (const sender of this.senders) {
      for (const recipient of this.recipients) {
        const pair: PairLedger = {
          key: `${sender.label}>${recipient.label}`,
          sealed: sender.sealed,
          federated: this.serverOf(sender) !== this.serverOf(recipient),
          firstAttemptAt: new Map(),
          acceptedAt: new Map(),
        };
        this.pairs.push(pair);
        this.workers.push(this.drive(pair, sender, recipient));
      }
    }
    return this;
  }

  get accepted(): number {
    return this.pairs.reduce((n, p) => n + p.acceptedAt.size, 0);
  }

  /** Stops issuing sends (a send being retried is given up) and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async drive(pair: PairLedger, sender: SenderDevice, recipient: RecipientDevice): Promise<void> {
    const runKey = randomBytes(4).toString('hex');
    for (let seq = 0; !this.stopped; seq++) {
      pair.firstAttemptAt.set(seq, Date.now());
      const idempotencyKey = `${runKey}.${seq}`;
      while (!this.stopped) {
        const why = await this.attempt(sender, recipient, pairContent(this.tag, pair.key, seq), idempotencyKey);
        if (why === null) {
          pair.acceptedAt.set(seq, Date.now());
          break;
        }
        this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
        await sleep(this.options.retryMs);
      }
      await sleep(this.options.pauseMs);
    }
  }

  /** One attempt; null when answered 2xx, else why not. */
  private async attempt(sender: SenderDevice, recipient: RecipientDevice, content: string, idempotencyKey: string): Promise<string | null> {
    const answer = send(
      sender.relayUrl,
      recipient.account.address,
      [primary(recipient.account)],
      content,
      sender.sealed
        ? { accessKey: recipient.account.accessKey, idempotencyKey, type: SEALED_SENDER }
        : { token: sender.account.token, idempotencyKey, type: CIPHERTEXT },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.attemptTimeoutMs);
    });
    try {
      const outcome = await Promise.race([answer, timeout]);
      if (outcome === 'timeout') {
        answer.catch(() => undefined); // abandoned: its outcome is unknown, the retry carries the same Idempotency-Key
        return `no answer in ${this.options.attemptTimeoutMs} ms`;
      }
      return outcome.status >= 200 && outcome.status < 300 ? null : `status ${outcome.status}`;
    } catch (error) {
      return describeError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
