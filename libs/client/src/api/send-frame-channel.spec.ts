import { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SEND_FRAME_MAX_BYTES } from '@sealpost/contracts';
import { SendFrameChannel, SocketSendUnanswered } from './send-frame-channel';

/** A loopback relay stand-in that holds each send frame until the test answers it. */
async function relayStandIn() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const frames: { requestId: string; address: string; socket: WebSocket }[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (data) => frames.push({ ...(JSON.parse(data.toString()) as { requestId: string; address: string }), socket }));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await new Promise<void>((resolve) => client.once('open', () => resolve()));
  const channel = new SendFrameChannel(client);
  client.on('message', (data) => channel.settle(JSON.parse(data.toString()) as { type?: unknown }));
  client.on('close', () => channel.closed());
  const arrived = async (n: number) => {
    while (frames.length < n) await new Promise((r) => setTimeout(r, 5));
  };
  const close = async () => {
    client.terminate();
    for (const s of server.clients) s.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { frames, channel, client, arrived, close };
}

describe('SendFrameChannel', () => {
  it('pairs answers that come out of order with their sends by requestId, and ignores unknown ones', async () => {
    const relay = await relayStandIn();
    try {
      const first = relay.channel.request({ address: 'a@x.test', message: {} });
      const second = relay.channel.request({ address: 'b@x.test', message: {}, idempotencyKey: 'k' });
      await relay.arrived(2);
      const [a, b] = relay.frames;
      expect(a.requestId).not.toBe(b.requestId);
      expect(a.requestId.length).toBeLessThanOrEqual(64);
      b.socket.send(JSON.stringify({ type: 'send-result', requestId: 'someone-else', status: 500, body: {} }));
      b.socket.send(
        JSON.stringify({ type: 'send-result', requestId: b.requestId, status: 429, body: { error: 'rate_limited' }, retryAfter: 3 }),
      );
      a.socket.send(JSON.stringify({ type: 'send-result', requestId: a.requestId, status: 200, body: { serverTimestamp: 5 } }));
      expect(await second).toEqual({ status: 429, body: { error: 'rate_limited' }, retryAfter: 3 });
      expect(await first).toEqual({ status: 200, body: { serverTimestamp: 5 } });
    } finally {
      await relay.close();
    }
  });

  it('a socket that closes fails the sends still waiting as maybe stored; on a closed socket nothing is sent', async () => {
    const relay = await relayStandIn();
    const waiting = relay.channel.request({ address: 'a@x.test', message: {} });
    await relay.arrived(1);
    relay.frames[0].socket.terminate();
    const failure = await waiting.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SocketSendUnanswered);
    expect((failure as SocketSendUnanswered).maybeStored).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(relay.channel.open).toBe(false);
    const refused = await relay.channel.request({ address: 'a@x.test', message: {} }).catch((error: unknown) => error);
    expect((refused as SocketSendUnanswered).maybeStored).toBe(false);
    await relay.close();
  });

  it('a send too large for a frame is not sent on the socket: it fails as never stored, so the transport uses HTTP', async () => {
    const relay = await relayStandIn();
    try {
      const large = await relay.channel
        .request({ address: 'a@x.test', message: { pad: 'x'.repeat(SEND_FRAME_MAX_BYTES) } })
        .catch((error: unknown) => error);
      expect(large).toBeInstanceOf(SocketSendUnanswered);
      expect((large as SocketSendUnanswered).maybeStored).toBe(false);
      const small = relay.channel.request({ address: 'b@x.test', message: {} });
      await relay.arrived(1);
      expect(relay.frames.map((f) => f.address)).toEqual(['b@x.test']);
      relay.frames[0].socket.send(JSON.stringify({ type: 'send-result', requestId: relay.frames[0].requestId, status: 200, body: {} }));
      expect((await small).status).toBe(200);
    } finally {
      await relay.close();
    }
  });
});
