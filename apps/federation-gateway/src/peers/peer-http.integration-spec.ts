import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { loadGatewayConfig } from '@sealpost/config';
import { PeerAnswerTooLarge, PeerHttp } from './peer-http';
import { PeerAddressRefused } from './ssrf-guard';

/**
 * Issue 9, defect 7: the SSRF guard works at connect time (the address connected to is the address
 * checked, no DNS-rebinding window) and no answer from a peer is read past its cap.
 */
describe('PeerHttp (connect-time SSRF guard, capped answers) against a real loopback server', () => {
  let server: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/big') {
        response.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < 64 * 1024 * 1024) {
            sent += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
          response.end();
        };
        response.on('close', () => (sent = Infinity));
        pump();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const peerHttp = (env: Record<string, string> = {}) =>
    new PeerHttp(
      loadGatewayConfig({
        SERVER_NAME: 'alpha.test',
        DATABASE_URL: 'postgres://x@127.0.0.1/x',
        REDIS_URL: 'redis://127.0.0.1:6379',
        ...env,
      }),
    );

  it('refuses, at connect time, a name that resolves to a loopback address, and never connects', async () => {
    const http = peerHttp();
    const before = connections;
    await expect(http.fetch(`http://localhost:${port}/`)).rejects.toBeInstanceOf(PeerAddressRefused);
    expect(connections).toBe(before);
    await http.onApplicationShutdown();
  });

  it.each(['127.0.0.1', '[::ffff:127.0.0.1]', '[::127.0.0.1]', '[64:ff9b::7f00:1]'])('refuses the literal %s', async (host) => {
    const http = peerHttp();
    await expect(http.fetch(`http://${host}:${port}/`)).rejects.toBeInstanceOf(PeerAddressRefused);
    await http.onApplicationShutdown();
  });

  it('connects to the same name when FEDERATION_ALLOW_PRIVATE_PEERS is set, and to a static peer without it', async () => {
    const allowed = peerHttp({ FEDERATION_ALLOW_PRIVATE_PEERS: 'true' });
    expect((await allowed.fetch(`http://localhost:${port}/`)).status).toBe(200);
    await allowed.onApplicationShutdown();
    const staticPeer = peerHttp({ FEDERATION_PEERS: `beta.test=http://127.0.0.1:${port}` });
    const answer = await staticPeer.fetch(`http://127.0.0.1:${port}/`);
    expect(JSON.parse(answer.body.toString())).toEqual({ ok: true });
    await staticPeer.onApplicationShutdown();
  });

  it('stops reading an answer past FEDERATION_PEER_ANSWER_MAX_BYTES', async () => {
    const http = peerHttp({ FEDERATION_ALLOW_PRIVATE_PEERS: 'true', FEDERATION_PEER_ANSWER_MAX_BYTES: String(256 * 1024) });
    await expect(http.fetch(`http://127.0.0.1:${port}/big`)).rejects.toBeInstanceOf(PeerAnswerTooLarge);
    await http.onApplicationShutdown();
  });
});
