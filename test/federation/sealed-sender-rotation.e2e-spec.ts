import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLibsignal } from '../../libs/crypto/src/testing/libsignal-loader';
import { sealedSenderCommand } from '../../apps/prekey-directory/src/admin/sealed-sender.command';
import { UsageError } from '../../apps/prekey-directory/src/admin/registration-token.command';
import { SealedSenderKeys } from '../../apps/prekey-directory/src/sealed-sender/sealed-sender-keys.service';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { freshFederationServers } from '../support/federation-databases';
import { TestAccount, registerAccount } from '../support/accounts';
import { call } from '../support/http';

/**
 * Sealed-sender keys rotate like the federation keys: an admin command adds a generation, running
 * directories pick it up (here: `reload()`, which their one-minute timer calls), and certificates
 * already issued stay valid against what discovery publishes until they expire.
 */
describe('sealed-sender key rotation', () => {
  let kappa: FederatedHomeserver;
  let keysDir: string;
  let alice: TestAccount;
  const { SenderCertificate, PublicKey } = loadLibsignal();

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'sealpost-ss-rotation-'));
    await freshFederationServers(['kappa.test']);
    [kappa] = await startFederation(['kappa.test'], { 'kappa.test': { KEYS_DIR: keysDir } });
    alice = await registerAccount(kappa.directoryUrl);
  });
  afterAll(async () => {
    await kappa?.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  const certificate = async () => {
    const answer = await call('GET', `${kappa.directoryUrl}/v1/certificate/delivery`, { token: alice.token });
    expect(answer.status).toBe(200);
    return SenderCertificate.deserialize(new Uint8Array(Buffer.from(answer.body.certificate, 'base64')));
  };
  const discovery = async () => (await call('GET', `${kappa.gatewayUrl}/.well-known/sealpost`)).body;
  const root = (base64: string) => PublicKey.deserialize(new Uint8Array(Buffer.from(base64, 'base64')));
  const run = async (verb: string) => {
    const lines: string[] = [];
    await sealedSenderCommand(keysDir, [verb], (line) => lines.push(line));
    return lines;
  };

  it('rotates the server key: new certificates carry the next key id, old ones still validate', async () => {
    const before = await certificate();
    const published = await discovery();
    expect(published.sealedSenderPreviousTrustRoots).toEqual([]);
    expect(before.serverCertificate().keyId()).toBe(1);

    const printed = await run('rotate-server-key');
    expect(printed[0]).toMatch(/generation 2/);
    await kappa.directory.get(SealedSenderKeys).reload();

    const after = await certificate();
    expect(after.serverCertificate().keyId()).toBe(2);
    expect(Buffer.from(after.serverCertificate().key().serialize())).not.toEqual(Buffer.from(before.serverCertificate().key().serialize()));
    expect(after.validate(root(published.sealedSenderTrustRoot), Date.now())).toBe(true);
    expect(before.validate(root(published.sealedSenderTrustRoot), Date.now())).toBe(true);
  });

  it('rotates the trust root: discovery publishes the new root and keeps the replaced one as previous', async () => {
    const before = await certificate();
    const oldRoot = (await discovery()).sealedSenderTrustRoot;

    await run('rotate-trust-root');
    await kappa.directory.get(SealedSenderKeys).reload();
    // A gateway asks the directory for the roots again at most a minute later; a restarted one at once.
    await kappa.stopGateway();
    await kappa.startGateway();

    const published = await discovery();
    expect(published.sealedSenderTrustRoot).not.toBe(oldRoot);
    expect(published.sealedSenderPreviousTrustRoots).toEqual([oldRoot]);
    const after = await certificate();
    expect(after.validate(root(published.sealedSenderTrustRoot), Date.now())).toBe(true);
    expect(after.validate(root(oldRoot), Date.now())).toBe(false);
    // A certificate issued before the rotation validates against the previous root until it expires.
    expect(before.validate(root(published.sealedSenderPreviousTrustRoots[0]), Date.now())).toBe(true);
    expect(before.validate(root(published.sealedSenderTrustRoot), Date.now())).toBe(false);
    // Once every certificate it signed has expired (24 h), the replaced root is no longer published.
    const keys = kappa.directory.get(SealedSenderKeys);
    expect(keys.previousTrustRootPublicKeys(Date.now() + 23 * 3600_000)).toHaveLength(1);
    expect(keys.previousTrustRootPublicKeys(Date.now() + 25 * 3600_000)).toEqual([]);
  });

  it('status lists every generation with public keys only; rotating before any key exists is a usage error', async () => {
    const lines = await run('status');
    expect(lines.filter((l) => l.startsWith('trust-root'))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('server'))).toHaveLength(2);
    const privateKeys = readdirSync(keysDir)
      .filter((n) => n.startsWith('sealed-sender'))
      .map((n) => readFileSync(join(keysDir, n), 'utf8').trim());
    expect(privateKeys).toHaveLength(4);
    for (const secret of privateKeys) expect(lines.join('\n')).not.toContain(secret);

    const empty = mkdtempSync(join(tmpdir(), 'sealpost-ss-empty-'));
    try {
      await expect(sealedSenderCommand(empty, ['rotate-server-key'], () => undefined)).rejects.toBeInstanceOf(UsageError);
      await expect(sealedSenderCommand(empty, ['bogus'], () => undefined)).rejects.toThrow(/usage/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
