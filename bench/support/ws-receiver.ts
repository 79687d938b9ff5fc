/**
 * A device's relay WebSocket for the benches: hands each envelope to a callback with its
 * arrival time, acks it (acks batched per event-loop turn, one frame), and notes `queue-empty`.
 */
import WebSocket from 'ws';

export interface ReceivedEnvelope { id: string; content: string; source?: string; sourceDevice?: number; type: number }

export type EnvelopeHandler = (envelope: ReceivedEnvelope, receiver: WsReceiver, arrivedNs: bigint) => void;

export class WsReceiver {
  queueEmpty = false;
  /** Set once the bench is tearing down, so closes are not reported as failures. */
  closing = false;
  private pendingAcks: string[] = [];
  private flushScheduled = false;

  constructor(readonly socket: WebSocket, readonly index: number, onEnvelope: EnvelopeHandler) {
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
export function connectReceiver(wsUrl: string, token: string, index: number, onEnvelope: EnvelopeHandler): Promise<WsReceiver> {
  return new Promise((resolvePromise, reject) => {
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const receiver = new WsReceiver(socket, index, onEnvelope);
    socket.once('open', () => resolvePromise(receiver));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`socket ${index}: HTTP ${res.statusCode}`)));
    socket.once('error', reject);
    socket.on('close', (code) => {
      if (!receiver.closing) process.stderr.write(`socket ${index} closed unexpectedly (code ${code})\n`);
    });
  });
}
