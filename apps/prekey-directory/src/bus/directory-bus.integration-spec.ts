import { firstValueFrom } from 'rxjs';
import { createBusClient } from '../../../../libs/bus/src';
import { BundleResponse, ClaimBundlesReply, DeviceListReply, DirectoryPattern } from '../../../../libs/contracts/src';
import { RunningDirectory, startDirectory } from '../../../../test/support/directory-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { sha256 } from '../../../../libs/crypto/src';

describe('directory on the bus (Redis transport)', () => {
  let dir: RunningDirectory;
  let bus: ReturnType<typeof createBusClient>;
  beforeAll(async () => {
    dir = await startDirectory();
    bus = createBusClient({ redisUrl: dir.config.redisUrl, namespace: dir.config.redisPrefix });
    await bus.connect();
  });
  afterAll(async () => {
    await bus.close();
    await dir.close();
  });

  it('answers the device list of an address with device ids and registration ids', async () => {
    const bob = await registerAccount(dir.url);
    const reply = await firstValueFrom(bus.send<DeviceListReply | null>(DirectoryPattern.DeviceList, { address: bob.address }));
    expect(reply).toEqual({
      address: bob.address,
      accountId: bob.accountId,
      identityKey: bob.identity.identityKeyBase64,
      devices: [{ deviceId: 1, registrationId: bob.registrationId }],
      unidentifiedAccessKeyHash: null,
    });
    expect(await firstValueFrom(bus.send(DirectoryPattern.DeviceList, { address: 'nobody-x@alpha.test' }))).toBeNull();
  });

  it('authenticates a device by the SHA-256 of its bearer token, and nothing else', async () => {
    const bob = await registerAccount(dir.url);
    const tokenHash = sha256(Buffer.from(bob.token, 'base64')).toString('base64');
    expect(await firstValueFrom(bus.send(DirectoryPattern.Authenticate, { tokenHash }))).toEqual({
      accountId: bob.accountId,
      deviceId: 1,
      address: bob.address,
    });
    expect(await firstValueFrom(bus.send(DirectoryPattern.Authenticate, { tokenHash: sha256('other').toString('base64') }))).toBeNull();
    expect(await firstValueFrom(bus.send(DirectoryPattern.Authenticate, { tokenHash: bob.token.slice(0, 10) }))).toBeNull();
  });

  it('claims bundles with the same atomic take, and answers errors as values', async () => {
    const bob = await registerAccount(dir.url, { preKeys: 1, pqPreKeys: 1 });
    const first = await firstValueFrom(
      bus.send<ClaimBundlesReply>(DirectoryPattern.ClaimBundles, { address: bob.address, deviceId: '*', requester: 'beta.test' }),
    );
    const second = await firstValueFrom(
      bus.send<ClaimBundlesReply>(DirectoryPattern.ClaimBundles, { address: bob.address, deviceId: 1, requester: 'beta.test' }),
    );
    expect((first as BundleResponse).devices[0].preKey?.keyId).toBe(1);
    expect((second as BundleResponse).devices[0].preKey).toBeNull();
    const missing = await firstValueFrom(
      bus.send<ClaimBundlesReply>(DirectoryPattern.ClaimBundles, { address: 'nobody-y@alpha.test', deviceId: '*', requester: 'beta.test' }),
    );
    expect(missing).toMatchObject({ status: 404, error: 'not_found' });
    const malformed = await firstValueFrom(
      bus.send<ClaimBundlesReply>(DirectoryPattern.ClaimBundles, { address: 'NOT AN ADDRESS', deviceId: '*', requester: 'x' }),
    );
    expect(malformed).toMatchObject({ status: 400, error: 'invalid_request' });
  });
});

describe('directory on the bus, two replicas', () => {
  it('a bus claim is answered by one replica and takes one key, not one per replica', async () => {
    const first = await startDirectory();
    const second = await startDirectory({ REDIS_PREFIX: first.config.redisPrefix });
    const bus = createBusClient({ redisUrl: first.config.redisUrl, namespace: first.config.redisPrefix });
    await bus.connect();
    try {
      const bob = await registerAccount(first.url, { preKeys: 6, pqPreKeys: 6 });
      const taken: number[] = [];
      for (let i = 0; i < 3; i++) {
        const reply = await firstValueFrom(
          bus.send<ClaimBundlesReply>(DirectoryPattern.ClaimBundles, { address: bob.address, deviceId: 1, requester: 'beta.test' }),
        );
        taken.push((reply as BundleResponse).devices[0].preKey!.keyId);
      }
      expect(taken).toEqual([1, 2, 3]);
      const counts = await fetch(`${second.url}/v1/keys`, { headers: { authorization: `Bearer ${bob.token}` } });
      expect(await counts.json()).toEqual({ count: 3, pqCount: 3 });
    } finally {
      await bus.close();
      await second.close();
      await first.close();
    }
  });
});
