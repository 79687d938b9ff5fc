import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyTransparencyClient, MemoryKtStateStore } from '../../libs/client/src';
import { generateEd25519KeyPair, signEd25519 } from '../../libs/crypto/src';
import { ktHeadSigningBytes, ktKeyEndorsementBytes } from '../../libs/transparency/src';
import { ktKeysCommand } from '../../apps/prekey-directory/src/admin/kt-keys.command';
import { KtHeadSigner } from '../../apps/prekey-directory/src/transparency/kt-head-signer.service';
import { KtSigningKey } from '../../apps/prekey-directory/src/transparency/kt-signing-key.service';
import { KtGossip } from '../../apps/federation-gateway/src/kt-gossip/kt-gossip.service';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { registerAccount } from '../support/accounts';
import { call, fetchJson } from '../support/http';

/**
 * The directory's tree-head key rotates (`npm run admin -- kt rotate-key`): the new key is endorsed
 * by the old one, so a client and a peer gateway that pinned the old key keep verifying heads —
 * and a key the server merely claims, without an endorsement, is refused.
 */
describe('key-transparency key rotation', () => {
  let lambda: FederatedHomeserver;
  let mu: FederatedHomeserver;
  let keysDir: string;
  let pinnedKey: string;

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'sealpost-kt-rotation-'));
    await freshFederationServers(['lambda.test', 'mu.test']);
    [lambda, mu] = await startFederation(['lambda.test', 'mu.test'], {
      'lambda.test': { KT_GOSSIP_INTERVAL_SECONDS: '3600' },
      'mu.test': { KEYS_DIR: keysDir, KT_EPOCH_SECONDS: '3600' },
    });
    pinnedKey = mu.directory.get(KtSigningKey).publicKey.toString('base64');
  });
  afterAll(async () => {
    await lambda?.close();
    await mu?.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  const directory = () => ({ server: 'mu.test', directoryUrl: mu.directoryUrl, ktPublicKey: pinnedKey });
  const rotate = async () => {
    const lines: string[] = [];
    await ktKeysCommand(keysDir, 'mu.test', 'rotate-key', (l) => lines.push(l));
    await mu.directory.get(KtSigningKey).reload();
    return lines;
  };

  it('a client and a peer that pinned the old key follow the rotation; discovery shows the new key', async () => {
    const client = new KeyTransparencyClient(directory(), new MemoryKtStateStore(), fetchJson);
    await registerAccount(mu.directoryUrl);
    const before = await mu.directory.get(KtHeadSigner).signNow();
    await client.verifiedHead();
    expect(await lambda.gateway!.get(KtGossip).gossipWith('mu.test')).toBe('first-seen');

    const printed = await rotate();
    expect(printed[0]).toMatch(/endorsed by/);
    await registerAccount(mu.directoryUrl);
    const after = await mu.directory.get(KtHeadSigner).signNow();
    expect(after.keyId).not.toBe(before.keyId);

    const verified = await client.verifiedHead();
    expect(verified).toMatchObject({ treeSize: after.treeSize, keyId: after.keyId });
    // A fresh client pinned to the old key verifies a head signed by the new one, too.
    await expect(new KeyTransparencyClient(directory(), new MemoryKtStateStore(), fetchJson).verifiedHead()).resolves.toMatchObject({
      keyId: after.keyId,
    });
    expect(await lambda.gateway!.get(KtGossip).gossipWith('mu.test')).toBe('consistent');

    const keys = await call('GET', `${mu.directoryUrl}/v1/kt/keys`);
    expect(keys.body.keys.map((k: { keyId: string }) => k.keyId)).toEqual([before.keyId, after.keyId]);
    expect(JSON.stringify(keys.body)).not.toContain('secretKey');
    await mu.stopGateway();
    await mu.startGateway();
    expect((await call('GET', `${mu.gatewayUrl}/.well-known/sealpost`)).body.ktPublicKey).toBe(
      mu.directory.get(KtSigningKey).publicKey.toString('base64'),
    );
  });

  it('refuses a head signed by a key that is listed but not endorsed by a trusted one', async () => {
    const rogue = generateEd25519KeyPair();
    const rogueKey = { keyId: 'ktrogue', publicKey: rogue.publicKey.toString('base64') };
    const served = (await fetchJson(`${mu.directoryUrl}/v1/kt/keys`)) as { server: string; keys: object[] };
    // Endorsed by a key nobody trusts (itself), appended to the real chain.
    const selfEndorsed = {
      ...rogueKey,
      endorsedBy: 'ktrogue',
      endorsement: signEd25519(rogue.secretKey, ktKeyEndorsementBytes('mu.test', rogueKey.keyId, rogueKey.publicKey)).toString('base64'),
    };
    const latest = (await fetchJson(`${mu.directoryUrl}/v1/kt/head`)) as { treeSize: number; rootHash: string };
    const body = { server: 'mu.test', treeSize: latest.treeSize, rootHash: latest.rootHash, timestamp: Date.now() };
    const head = { ...body, keyId: 'ktrogue', signature: signEd25519(rogue.secretKey, ktHeadSigningBytes(body)).toString('base64') };
    const client = new KeyTransparencyClient(directory(), new MemoryKtStateStore(), async (url) => {
      if (url.endsWith('/v1/kt/head')) return head;
      if (url.endsWith('/v1/kt/keys')) return { ...served, keys: [...served.keys, selfEndorsed] };
      return fetchJson(url);
    });
    await expect(client.verifiedHead()).rejects.toMatchObject({ kind: 'bad-head-signature' });
  });

  it('kt keys lists every key with public halves only; rotating without a key is a usage error', async () => {
    const lines: string[] = [];
    await ktKeysCommand(keysDir, 'mu.test', 'keys', (l) => lines.push(l));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/signs now/);
    expect(lines.join('\n')).not.toMatch(/secret/i);
    const empty = mkdtempSync(join(tmpdir(), 'sealpost-kt-empty-'));
    try {
      await expect(ktKeysCommand(empty, 'mu.test', 'rotate-key', () => undefined)).rejects.toThrow(/no key-transparency key/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
