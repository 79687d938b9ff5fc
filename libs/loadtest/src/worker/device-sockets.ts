import type { EnvelopeJson } from '@sealpost/contracts';
import WebSocket from 'ws';
import type { ConnectFigures } from './ipc-messages';

/** What the sockets hand on for each envelope frame (docs/API.md). */
export type ArrivedEnvelope = EnvelopeJson;

export interface SocketDevice {
  index: number;
  token: string;
  /** ws(s):// URL of the device's relay socket. */
  url: string;
  /** The relay is on IPv4 loopback: bind one of the worker's 127.0.x.y source addresses. */
  bindLoopback: boolean;
}

/**
 * Returns a tag the sockets keep with the envelope until its ack round trip is known (-1: do not
 * time it). Called synchronously on arrival, before the ack is sent.
 */
export type EnvelopeHandler = (device: number, envelope: ArrivedEnvelope, arrivedMs: number) => number;

const OPEN_TIMEOUT_MS = 30_000;
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 8000;
const SEEN_KEEP = 512;
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * The devices' relay WebSockets of one worker: opened with bounded concurrency from the worker's
 * source addresses, every envelope handed on and acked at once (acks batched per event-loop
 * turn, one frame); each ack frame is followed by a ping, and the pong — which the relay sends
 * only after it has read the ack before it — times the ack round trip of that frame's envelopes.
 * A dropped socket reconnects (0.5 s, doubling to 8 s while it fails); an envelope id seen again on the same device (the
 * relay redelivers unacked envelopes after a reconnect) is passed over, not counted twice.
 */
export class DeviceSockets {
  private readonly sockets = new Map<number, WebSocket>();
  private readonly seen = new Map<number, Set<string>>();
  private closing = false;
  readonly drops: Record<string, number> = {};

  constructor(
    private readonly onEnvelope: EnvelopeHandler,
    private readonly onAck: (tag: number, ms: number) => void,
  ) {}

  async connectAll(devices: SocketDevice[], concurrency: number, sourceAddresses: string[], perAddress = 20_000): Promise<ConnectFigures> {
    const figures: ConnectFigures = { attempted: 0, connected: 0, failed: 0, failuresByReason: {}, durationMs: 0, sourceAddresses: [] };
    const started = nowMs();
    let next = 0;
    const used = new Set<string>();
    const lane = async (): Promise<void> => {
      while (next < devices.length) {
        const i = next++;
        const localAddress =
          devices[i].bindLoopback && sourceAddresses.length > 0
            ? sourceAddresses[Math.min(sourceAddresses.length - 1, Math.floor(i / perAddress))]
            : undefined;
        if (localAddress) used.add(localAddress);
        figures.attempted++;
        const failure = await this.open(devices[i], localAddress);
        if (failure === undefined) figures.connected++;
        else {
          figures.failed++;
          figures.failuresByReason[failure] = (figures.failuresByReason[failure] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, lane));
    figures.durationMs = Math.round(nowMs() - started);
    figures.sourceAddresses = [...used];
    return figures;
  }

  /** Closes every socket (no reconnects after this). */
  closeAll(): void {
    this.closing = true;
    for (const socket of this.sockets.values()) socket.terminate();
    this.sockets.clear();
  }

  /**
   * Opens one device's socket; resolves with undefined once the relay said queue-empty, or with
   * the failure's reason. A socket that was open and closes is opened again (`retry`: the
   * attempt, for the backoff); a first connection that fails is not (it is a connect failure).
   */
  private open(device: SocketDevice, localAddress: string | undefined, retry = 0): Promise<string | undefined> {
    return new Promise((resolve) => {
      const socket = new WebSocket(device.url, {
        headers: { authorization: `Bearer ${device.token}` },
        perMessageDeflate: false,
        handshakeTimeout: OPEN_TIMEOUT_MS,
        ...(localAddress ? { localAddress } : {}),
      });
      let settled = false;
      const settle = (failure: string | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(failure);
      };
      const timer = setTimeout(() => {
        socket.terminate();
        settle('timeout');
      }, OPEN_TIMEOUT_MS);
      this.attach(device, socket, () => settle(undefined));
      socket.once('unexpected-response', (_request, response) => {
        settle(String(response.statusCode));
        response.resume();
        socket.terminate();
      });
      socket.on('error', (error: Error & { code?: string }) => settle(error.code ?? 'error'));
      let opened = false;
      socket.once('open', () => (opened = true));
      socket.on('close', (code) => {
        settle(`closed ${code}`);
        if (this.sockets.get(device.index) !== socket || this.closing) return;
        this.sockets.delete(device.index);
        if (opened) this.drops[String(code)] = (this.drops[String(code)] ?? 0) + 1;
        if (!opened && retry === 0) return;
        const next = opened ? 1 : retry + 1;
        setTimeout(() => void this.open(device, localAddress, next), Math.min(RECONNECT_MAX_MS, RECONNECT_MS * 2 ** (next - 1))).unref();
      });
      this.sockets.set(device.index, socket);
    });
  }

  private attach(device: SocketDevice, socket: WebSocket, drained: () => void): void {
    let seen = this.seen.get(device.index);
    if (!seen) this.seen.set(device.index, (seen = new Set()));
    let pendingAcks: string[] = [];
    let pendingTags: { tag: number; at: number }[] = [];
    let flushScheduled = false;
    let pingCounter = 0;
    const awaitingPong = new Map<number, { tag: number; at: number }[]>();
    socket.on('pong', (data: Buffer) => {
      const n = data.length === 4 ? data.readUInt32BE(0) : -1;
      const timed = awaitingPong.get(n);
      if (!timed) return;
      awaitingPong.delete(n);
      const at = nowMs();
      for (const t of timed) this.onAck(t.tag, at - t.at);
    });
    const flush = () => {
      flushScheduled = false;
      if (socket.readyState !== WebSocket.OPEN || pendingAcks.length === 0) return;
      socket.send(JSON.stringify({ type: 'ack', ids: pendingAcks }));
      if (pendingTags.length > 0) {
        const n = pingCounter++ >>> 0;
        const payload = Buffer.alloc(4);
        payload.writeUInt32BE(n, 0);
        awaitingPong.set(n, pendingTags);
        socket.ping(payload);
      }
      pendingAcks = [];
      pendingTags = [];
    };
    socket.on('message', (data: Buffer) => {
      const arrivedMs = nowMs();
      const text = data.toString('utf8');
      if (text.startsWith('{"type":"envelope"')) {
        const { envelope } = JSON.parse(text) as { envelope: ArrivedEnvelope };
        if (!seen.has(envelope.id)) {
          seen.add(envelope.id);
          if (seen.size > SEEN_KEEP) seen.delete(seen.values().next().value as string);
          const tag = this.onEnvelope(device.index, envelope, arrivedMs);
          if (tag >= 0) pendingTags.push({ tag, at: arrivedMs });
        }
        pendingAcks.push(envelope.id);
        if (pendingAcks.length >= 1000) flush();
        else if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      } else if (text === '{"type":"queue-empty"}') {
        drained();
      }
    });
  }
}
