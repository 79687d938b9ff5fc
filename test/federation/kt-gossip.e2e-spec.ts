import { Pool } from 'pg';
import { KtGossip } from '../../apps/federation-gateway/src/kt-gossip/kt-gossip.service';
import { KtObservationsRepository } from '../../apps/federation-gateway/src/kt-gossip/kt-observations.repository';
import { FederationHttpClient } from '../../apps/federation-gateway/src/peers/federation-http.client';
import { PeerUnreachable } from '../../apps/federation-gateway/src/peers/peer-resolver.service';
import { KtHeadSigner } from '../../apps/prekey-directory/src/transparency/kt-head-signer.service';
import { KtSigningKey } from '../../apps/prekey-directory/src/transparency/kt-signing-key.service';
import { sha256 } from '../../libs/crypto/src';
import { ktHeadSigningBytes } from '../../libs/transparency/src';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { registerAccount } from '../support/accounts';
import { call } from '../support/http';

/**
 * Gossip between gateways: alpha keeps beta's signed tree heads and checks each new one against
 * the last; a directory that shows a forked log (a signed head its earlier head does not lead to)
 * is caught, and the two heads are kept as evidence.
 */
describe('key-transparency gossip between homeservers', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  let betaDb: Pool;
  beforeAll(async () => {
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test'], { 'alpha.test': { KT_GOSSIP_INTERVAL_SECONDS: '3600' } });
    betaDb = new Pool({ connectionString: beta.directoryConfig.databaseUrl });
  });
  afterAll(async () => {
    await betaDb.end();
    await alpha?.close();
    await beta?.close();
  });

  const gossip = () => alpha.gateway!.get(KtGossip).gossipWith('beta.test');

  /** The malicious directory: a validly signed head of beta whose root is not the real log's. */
  async function serveForkedHead(treeSize: number): Promise<void> {
    const key = beta.directory.get(KtSigningKey);
    const body = {
      server: 'beta.test',
      treeSize,
      rootHash: sha256(`fork-${treeSize}-${Date.now()}`).toString('base64'),
      timestamp: Date.now(),
    };
    await betaDb.query(`DELETE FROM directory.kt_heads WHERE tree_size = $1`, [treeSize]);
    await betaDb.query(`INSERT INTO directory.kt_heads (tree_size, root_hash, timestamp, signature, key_id) VALUES ($1, $2, $3, $4, $5)`, [
      treeSize,
      Buffer.from(body.rootHash, 'base64'),
      body.timestamp,
      key.sign(ktHeadSigningBytes(body)),
      key.keyId,
    ]);
  }

  it('keeps the first head, then accepts heads that extend it', async () => {
    await registerAccount(beta.directoryUrl);
    await beta.directory.get(KtHeadSigner).signNow();
    expect(['first-seen', 'consistent']).toContain(await gossip());
    await registerAccount(beta.directoryUrl);
    await registerAccount(beta.directoryUrl);
    await beta.directory.get(KtHeadSigner).signNow();
    expect(await gossip()).toBe('consistent');
    const observed = await call('GET', `${alpha.gatewayUrl}/federation/v1/kt/observed/beta.test`);
    expect(observed.status).toBe(200);
    expect(observed.body.heads.length).toBeGreaterThanOrEqual(2);
  });

  it('a peer that fails to answer the proof request is unreachable for this round, never an equivocator', async () => {
    await registerAccount(beta.directoryUrl); // a non-empty kept head: the next one needs a proof
    await beta.directory.get(KtHeadSigner).signNow();
    expect(['first-seen', 'consistent']).toContain(await gossip());
    await registerAccount(beta.directoryUrl);
    await beta.directory.get(KtHeadSigner).signNow();
    const evidenceBefore = (await alpha.gateway!.get(KtObservationsRepository).evidence()).length;
    const client = alpha.gateway!.get(FederationHttpClient);
    const real = client.request.bind(client);
    // The peer's answers to the consistency request only: a dropped connection, a 503, a 429.
    const failures = [
      () => {
        throw new PeerUnreachable('beta.test: connection reset');
      },
      () => ({ status: 503, body: { error: 'directory_unavailable' }, retryAfterSeconds: 1 }),
      () => ({ status: 429, body: { error: 'rate_limited' }, retryAfterSeconds: 1 }),
    ];
    for (const fail of failures) {
      const spy = jest
        .spyOn(client, 'request')
        .mockImplementation(
          async (server, method, path, body) =>
            (path.startsWith('/federation/v1/kt/consistency') ? fail() : real(server, method, path, body)) as never,
        );
      try {
        expect(await gossip()).toBe('unreachable');
      } finally {
        spy.mockRestore();
      }
    }
    expect((await alpha.gateway!.get(KtObservationsRepository).evidence()).length).toBe(evidenceBefore);
    expect(await gossip()).toBe('consistent');
  });

  it('catches a forked head and keeps both signed heads as evidence', async () => {
    const head = await beta.directory.get(KtHeadSigner).signNow();
    expect(await gossip()).toBe('consistent');
    await serveForkedHead(head.treeSize + 5);
    expect(await gossip()).toBe('evidence');
    const evidence = (await alpha.gateway!.get(KtObservationsRepository).evidence()).filter((e) => e.server === 'beta.test');
    expect(evidence.length).toBeGreaterThanOrEqual(1);
    const last = evidence[evidence.length - 1];
    expect(last.keptHead.treeSize).toBe(head.treeSize);
    expect(last.conflictingHead.treeSize).toBe(head.treeSize + 5);
    expect(last.reason).toMatch(/consistency|extend/);
    await betaDb.query(`DELETE FROM directory.kt_heads WHERE tree_size = $1`, [head.treeSize + 5]);
  });

  it('two different roots for the same tree size are evidence too', async () => {
    const head = await beta.directory.get(KtHeadSigner).signNow();
    expect(await gossip()).toBe('consistent');
    await serveForkedHead(head.treeSize);
    expect(await gossip()).toBe('evidence');
    const evidence = await alpha.gateway!.get(KtObservationsRepository).evidence();
    expect(evidence.some((e) => e.server === 'beta.test' && /two roots/.test(e.reason))).toBe(true);
  });
});
