import { randomBytes } from 'node:crypto';
import { Server, createServer } from 'node:http';
import { KtGossip } from '../../apps/federation-gateway/src/kt-gossip/kt-gossip.service';
import { eventually } from '../support/bus-listener';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { readSigningKey, signedCall } from '../support/federation-testkit';
import { call } from '../support/http';
import { freePort } from '../support/service-process';

const STRANGERS = 40;
const DISCOVERY_CAP = 4;

/** A peer that takes key requests and answers none of them until released: counts how many it holds at once. */
class StallingPeer {
  held: (() => void)[] = [];
  seen = 0;
  mostAtOnce = 0;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((request, response) => {
      this.seen++;
      const release = () => response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"x"}');
      this.held.push(release);
      this.mostAtOnce = Math.max(this.mostAtOnce, this.held.length);
    });
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  releaseAll(): void {
    for (const release of this.held.splice(0)) release();
  }

  async stop(): Promise<void> {
    this.releaseAll();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * Issue 9, defect 8: naming an origin must not buy a stranger unbounded work. Key discovery for
 * origins without a pinned key is single-flight per origin, capped over all origins (refused at
 * once beyond the cap) and remembered when it fails; and a server name that only appeared in an
 * unauthenticated sealed send never becomes a key-transparency gossip peer.
 */
describe('unknown origins and gossip peers (abuse: strangers naming servers)', () => {
  describe('key discovery for origins nobody has seen', () => {
    const stalling = new StallingPeer();
    let beta: FederatedHomeserver;

    beforeAll(async () => {
      await stalling.start();
      const strangers = Array.from({ length: STRANGERS }, (_, i) => `stranger${i}.test=http://127.0.0.1:${stalling.port}`).join(',');
      [beta] = await startFederation(['beta.test'], {
        'beta.test': {
          FEDERATION_PEERS: strangers,
          FEDERATION_REQUEST_TIMEOUT_MS: '12000',
          FEDERATION_KEY_DISCOVERY_MAX_CONCURRENT: String(DISCOVERY_CAP),
        },
      });
    });
    afterAll(async () => {
      await stalling.stop();
      await beta?.close();
    });

    it('runs at most the configured number of lookups at once, refuses the rest at once (503), and remembers a failed lookup', async () => {
      const key = readSigningKey(beta);
      const ping = (i: number) =>
        signedCall({
          method: 'GET',
          baseUrl: beta.gatewayUrl,
          path: '/federation/v1/ping',
          key: { ...key, server: `stranger${i}.test` },
          destination: 'beta.test',
        });
      const answers = new Map<number, { status: number; body: any }>();
      const pending = Array.from({ length: STRANGERS }, (_, i) => ping(i).then((a) => answers.set(i, a)));
      // While the lookups that started are still held by the stalling peer, every other request is answered.
      await eventually(() => stalling.held.length >= DISCOVERY_CAP && answers.size >= STRANGERS - DISCOVERY_CAP, 20_000);
      expect(stalling.mostAtOnce).toBeLessThanOrEqual(DISCOVERY_CAP);
      expect(stalling.held.length).toBe(DISCOVERY_CAP);
      for (const answer of answers.values()) {
        expect(answer).toMatchObject({ status: 503, body: { error: 'key_discovery_busy', message: expect.any(String) } });
      }
      stalling.releaseAll();
      await Promise.all(pending);
      const looked = [...answers.entries()].filter(([, a]) => a.status === 401).map(([i]) => i);
      expect(looked).toHaveLength(DISCOVERY_CAP);
      // A failed lookup is remembered: asking again for the same origins costs no new fetch.
      const seenBefore = stalling.seen;
      for (const i of looked) expect((await ping(i)).status).toBe(401);
      expect(stalling.seen).toBe(seenBefore);
    });
  });

  describe('gossip peers', () => {
    let alpha: FederatedHomeserver;
    let beta: FederatedHomeserver;

    beforeAll(async () => {
      [alpha, beta] = await startFederation(['alpha.test', 'beta.test']);
    });
    afterAll(async () => {
      await alpha?.close();
      await beta?.close();
    });

    it('an unauthenticated sealed send to a server nobody has heard from does not make it a gossip peer', async () => {
      const sent = await call('PUT', `${alpha.relayUrl}/v1/messages/someone@ghost-peer.test`, {
        body: { timestamp: 1, messages: [{ deviceId: 1, registrationId: 1, type: 6, content: randomBytes(32).toString('base64') }] },
        headers: { 'unidentified-access-key': randomBytes(16).toString('base64') },
      });
      // Accepted into the outbox (or, where unresolvable servers are refused, refused): either way no gossip.
      expect(sent.status).toBeLessThan(500);
      // beta proves itself by answering a signed request of alpha's (and by signing one to alpha).
      const pinged = await signedCall({
        method: 'GET',
        baseUrl: alpha.gatewayUrl,
        path: '/federation/v1/ping',
        key: readSigningKey(beta),
        destination: 'alpha.test',
      });
      expect(pinged.status).toBe(200);
      await alpha.gateway!.get(KtGossip).gossipAll();
      const metrics = await (await fetch(`${alpha.gatewayUrl}/metrics`)).text();
      expect(metrics).toMatch(/sealpost_kt_gossip_total\{peer="beta\.test"/);
      expect(metrics).not.toMatch(/sealpost_kt_gossip_total\{peer="ghost-peer\.test"/);
    });
  });
});
