import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import type { AuthenticatedDevice, EnvelopeJson } from '@sealpost/contracts';
import type { MessagesStore, StoredEnvelope } from '../mailbox/messages-store.repository';
import type { SendingSocket } from '../socket-sends/sending-socket';

export const CLOSE_REPLACED = 4409;
export const CLOSE_DEVICE_REMOVED = 4410;
/** The client sent frames faster than WS_FRAME_RATE_PER_SECOND (after WS_FRAME_BURST): it should back off and reconnect. */
export const CLOSE_TOO_MANY_FRAMES = 4429;

export interface ConnectionDeps {
  store: MessagesStore;
  maxInFlight: number;
  /** Only ids this connection was sent and has not acked yet; never empty. */
  onAck(connection: DeviceConnection, ids: string[]): void;
  /** How many acked ids were not this connection's to ack (never sent on it, or acked already): ignored. */
  onIgnoredAcks(count: number): void;
  /** True for an envelope this device acked whose delete has not succeeded yet: it is skipped, not pushed again. */
  ackedNotYetDeleted(connection: DeviceConnection, id: string): boolean;
  onFetchError(error: unknown): void;
  /** An envelope was sent on `connection` (it earns the client one frame for its ack). */
  onPushed(connection: DeviceConnection): void;
}

/**
 * One device's socket. Pushes the device's queue in seq order, at most `maxInFlight` unacked at
 * a time (backpressure), says `queue-empty` once the backlog is drained, and follows new
 * envelopes on wake-ups. Because per device the commit order is the seq order, following
 * `seq > lastSentSeq` never skips an envelope. Unacked envelopes stay stored and come again on
 * the next connection. The device may send on it too (SendingSocket: its sends are identified as it).
 */
export class DeviceConnection implements SendingSocket {
  readonly openedAt = Date.now();
  /** Random id of this connection: presence names it, so a kick closes exactly the displaced one. */
  readonly connectionId = randomBytes(9).toString('base64url');
  alive = true;
  private lastSentSeq = 0;
  private readonly inFlight = new Set<string>();
  private draining = false;
  private wakeAgain = false;
  private sentQueueEmpty = false;
  sendsInFlight?: Set<string>;

  constructor(
    readonly socket: WebSocket,
    readonly device: AuthenticatedDevice,
    readonly clientAddress: string,
    private readonly deps: ConnectionDeps,
  ) {}

  get sender(): AuthenticatedDevice {
    return this.device;
  }

  get key(): string {
    return `${this.device.accountId}/${this.device.deviceId}`;
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** New envelopes may be stored: fetch and push what fits. Coalesces while a fetch runs. */
  wake(): void {
    if (this.draining) {
      this.wakeAgain = true;
      return;
    }
    void this.drain();
  }

  /**
   * Envelopes just committed for this device, handed over in memory by the same instance:
   * pushed without a fetch when they directly follow what was sent and there is room;
   * otherwise this is an ordinary wake-up.
   */
  offer(envelopes: StoredEnvelope[]): void {
    const contiguous = envelopes.length > 0 && envelopes[0].seq === this.lastSentSeq + 1;
    if (this.draining || !this.sentQueueEmpty || !contiguous || this.inFlight.size + envelopes.length > this.deps.maxInFlight) {
      this.wake();
      return;
    }
    for (const envelope of envelopes) this.push(envelope);
  }

  /**
   * Acks only what this connection was sent and has not acked yet; any other id (random, another
   * device's, acked twice, sent on an earlier connection) is ignored and counted, so an ack frame
   * can never queue more deletes than the window of envelopes in flight.
   */
  acknowledge(ids: string[]): void {
    const wasFull = this.inFlight.size >= this.deps.maxInFlight;
    const mine = ids.filter((id) => this.inFlight.delete(id));
    if (mine.length < ids.length) this.deps.onIgnoredAcks(ids.length - mine.length);
    if (mine.length > 0) this.deps.onAck(this, mine);
    // Only a window that was full may have left stored envelopes unsent; otherwise every
    // committed envelope was already pushed (in memory or by a fetch) and there is nothing to read.
    if (wasFull || this.wakeAgain) this.wake();
  }

  /** A server notice that is not an envelope (e.g. `prekeys-low`): sent now if the socket is open, never stored. */
  notice(frame: { type: string } & Record<string, unknown>): boolean {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      do {
        this.wakeAgain = false;
        while (this.isOpen && this.inFlight.size < this.deps.maxInFlight) {
          const room = this.deps.maxInFlight - this.inFlight.size;
          const batch = await this.deps.store.fetchAfter(this.device.accountId, this.device.deviceId, this.lastSentSeq, room);
          for (const envelope of batch) this.push(envelope);
          if (batch.length < room) {
            if (!this.sentQueueEmpty && this.isOpen) {
              this.sentQueueEmpty = true;
              this.socket.send('{"type":"queue-empty"}');
            }
            break;
          }
        }
      } while (this.wakeAgain && this.isOpen && this.inFlight.size < this.deps.maxInFlight);
    } catch (error) {
      this.deps.onFetchError(error);
    } finally {
      this.draining = false;
    }
  }

  private push(envelope: StoredEnvelope): void {
    if (!this.isOpen) return;
    if (this.deps.ackedNotYetDeleted(this, envelope.id)) {
      this.lastSentSeq = envelope.seq;
      return;
    }
    const json: EnvelopeJson = {
      id: envelope.id,
      type: envelope.type,
      ...(envelope.source !== null ? { source: envelope.source, sourceDevice: envelope.sourceDevice ?? undefined } : {}),
      destinationDevice: this.device.deviceId,
      clientTimestamp: envelope.clientTimestamp,
      serverTimestamp: envelope.serverTimestamp,
      content: envelope.content.toString('base64'),
    };
    this.inFlight.add(envelope.id);
    this.lastSentSeq = envelope.seq;
    this.socket.send(`{"type":"envelope","envelope":${JSON.stringify(json)}}`);
    this.deps.onPushed(this);
  }
}
