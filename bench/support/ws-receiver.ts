/**
 * A device's relay WebSocket for the benches: hands each envelope to a callback with its
 * arrival time, acks it (acks batched per event-loop turn, one frame), and notes `queue-empty`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { mapConcurrent } from './closed-loop';

export interface ReceivedEnvelope {
  id: string;
  content: string;
  source?: string;
  sourceDevice?: number;
  type: number;
}

export type EnvelopeHandler = (envelope: ReceivedEnvelope, receiver: WsReceiver, arrivedNs: bigint) => void;

export class WsReceiver {
  queueEmpty = false;
  /** Set once the bench is tearing down, so closes are not reported as failures. */
  closing = false;
  private pendingAcks: string[] = [];
  private flushScheduled = false;

  constructor(
    readonly socket: WebSocket,
    readonly index: number,
    onEnvelope: EnvelopeHandler,
  ) {
    socket.on('message', (data: Buffer) => {
      const arrivedNs = process.hrtime.bigint();
      const text = data.toString('utf8');
      if (text.startsWith('{"type":"envelope"')) {
        const { envelope } = JSON.parse(text) as { envelope: ReceivedEnvelope };
        onEnvelope(envelope, this, arrivedNs);
        this.ack(envelope.id);
      } else if (text === '{"type":"queue-empty"}') {
        this.queueEmpty = true;
      }
    });
  }

  private ack(id: string): void {
    this.pendingAcks.push(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const ids = this.pendingAcks;
      this.pendingAcks = [];
      if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'ack', ids }));
    });
  }
}

/** Opens `wsUrl` with a bearer token; resolves once the socket is open. Unexpected closes are reported on stderr. */
export function connectReceiver(
  wsUrl: string,
  token: string,
  index: number,
  onEnvelope: EnvelopeHandler,
  name = `socket ${index}`,
): Promise<WsReceiver> {
  return new Promise((resolvePromise, reject) => {
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const receiver = new WsReceiver(socket, index, onEnvelope);
    socket.once('open', () => resolvePromise(receiver));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`socket ${index}: HTTP ${res.statusCode}`)));
    socket.once('error', reject);
    socket.on('close', (code) => {
      if (!receiver.closing) process.stderr.write(`${name} closed unexpectedly (code ${code})\n`);
    });
  });
}

/**
 * Connects one receiver per account (50 at a time), adding each to `into` (for teardown), then
 * waits up to 10 s for every socket's `queue-empty`; throws if some never said it.
 */
export async function connectAllDrained(
  wsUrl: string,
  accounts: { token: string; index: number }[],
  onEnvelope: EnvelopeHandler,
  into: WsReceiver[],
  name?: (index: number) => string,
): Promise<WsReceiver[]> {
  const receivers = await mapConcurrent(accounts, 50, (a) => connectReceiver(wsUrl, a.token, a.index, onEnvelope, name?.(a.index)));
  into.push(...receivers);
  const deadline = Date.now() + 10_000;
  while (receivers.some((r) => !r.queueEmpty) && Date.now() < deadline) await sleep(20);
  const notEmpty = receivers.filter((r) => !r.queueEmpty).length;
  if (notEmpty) throw new Error(`${notEmpty} sockets did not say queue-empty`);
  return receivers;
}

/** Marks every receiver as closing (no unexpected-close report) and terminates its socket. */
export function terminateAll(receivers: WsReceiver[]): void {
  for (const r of receivers) {
    r.closing = true;
    r.socket.terminate();
  }
}
