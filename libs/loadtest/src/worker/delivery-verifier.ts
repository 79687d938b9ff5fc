import type { SealpostClient } from '@sealpost/client';
import type { EnvelopeJson } from '@sealpost/contracts';
import type { LoadPopulation } from '../accounts/load-accounts.types';
import type { LoadOptions } from '../options/load-options';
import type { SendKey } from '../schedule/send-key';
import { readBody } from './message-body';

/**
 * `--verify`: every delivered envelope decrypted with libsignal by the recipient device's own
 * client (the SDK's envelope opener: sealed-sender certificate and sender checked), and its
 * plaintext checked against what the sender sealed for that very send — the run, the send, the
 * sending device named in the certificate, the filler bytes. One device's envelopes are opened
 * in arrival order (its ratchet advances); devices in parallel.
 */
export class DeliveryVerifier {
  private readonly chains = new Map<number, Promise<void>>();
  readonly failuresByReason: Record<string, number> = {};

  constructor(
    private readonly clients: Map<number, SealpostClient>,
    private readonly population: LoadPopulation,
    private readonly runTag: number,
    private readonly size: LoadOptions['size'],
    private readonly onVerdict: (stage: number, ok: boolean) => void,
  ) {}

  check(device: number, envelope: EnvelopeJson, key: SendKey, stage: number): void {
    const previous = this.chains.get(device) ?? Promise.resolve();
    this.chains.set(
      device,
      previous.then(async () => {
        const reason = await this.mismatch(device, envelope, key);
        if (reason !== undefined) this.failuresByReason[reason] = (this.failuresByReason[reason] ?? 0) + 1;
        this.onVerdict(stage, reason === undefined);
      }),
    );
  }

  /** Resolves once every envelope handed to `check` so far has its verdict. */
  async settled(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private async mismatch(device: number, envelope: EnvelopeJson, key: SendKey): Promise<string | undefined> {
    const client = this.clients.get(device);
    if (!client) return 'no client for the device';
    let message;
    try {
      message = await client.openEnvelope(envelope);
    } catch (error) {
      return `undecryptable: ${(error as Error).name}`;
    }
    if (message === null) return 'opened twice';
    const read = readBody(message.body, { runTag: this.runTag, worker: key.worker, slot: key.seq }, this.size);
    if ('mismatch' in read) return read.mismatch;
    const sender = this.population.devices[read.sender];
    if (!sender || this.population.accounts[sender.account].address !== message.from || sender.deviceId !== message.fromDevice) {
      return 'another sender than sealed';
    }
    return undefined;
  }
}
