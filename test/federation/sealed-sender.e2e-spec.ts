import { randomBytes } from 'node:crypto';
import { loadLibsignal } from '../../libs/crypto/src/testing/libsignal-loader';
import { DeviceKeyMaterial } from '../../libs/client/src';
import { FederatedHomeserver, startFederation } from '../support/federation-harness';
import { registerAccount, registrationBody, uniqueLocalpart } from '../support/accounts';
import { DeviceSocket } from '../support/device-socket';
import { eventually } from '../support/bus-listener';
import { call } from '../support/http';

describe('sealed sender across homeservers', () => {
  let alpha: FederatedHomeserver;
  let beta: FederatedHomeserver;
  beforeAll(async () => {
    [alpha, beta] = await startFederation(['alpha.test', 'beta.test']);
  });
  afterAll(async () => {
    await alpha?.close();
    await beta?.close();
  });

  it('mints a libsignal SenderCertificate that validates against the trust root alpha publishes in discovery', async () => {
    const alice = await registerAccount(alpha.directoryUrl);
    const answer = await call('GET', `${alpha.directoryUrl}/v1/certificate/delivery`, { token: alice.token });
    expect(answer.status).toBe(200);
    const { SenderCertificate, PublicKey } = loadLibsignal();
    const certificate = SenderCertificate.deserialize(new Uint8Array(Buffer.from(answer.body.certificate, 'base64')));
    expect(certificate.senderUuid()).toBe(alice.accountId);
    expect(certificate.senderDeviceId()).toBe(1);
    expect(Buffer.from(certificate.key().serialize())).toEqual(alice.identity.identityKey);
    expect(certificate.expiration()).toBeLessThanOrEqual(Date.now() + 7 * 86400_000);

    // bob's client, on beta, finds alpha's trust root by discovery and validates.
    const discovery = await call('GET', `${alpha.gatewayUrl}/.well-known/sealpost`);
    const trustRoot = PublicKey.deserialize(new Uint8Array(Buffer.from(discovery.body.sealedSenderTrustRoot, 'base64')));
    expect(certificate.validate(trustRoot, Date.now())).toBe(true);
    const betaDiscovery = await call('GET', `${beta.gatewayUrl}/.well-known/sealpost`);
    const otherRoot = PublicKey.deserialize(new Uint8Array(Buffer.from(betaDiscovery.body.sealedSenderTrustRoot, 'base64')));
    expect(certificate.validate(otherRoot, Date.now())).toBe(false);
  });

  it("delivers a sealed envelope alice@alpha → bob@beta with bob's access key, without revealing the sender; a wrong key is 401", async () => {
    const accessKey = randomBytes(16);
    const identity = DeviceKeyMaterial.generate({ reuseKemKey: true });
    const localpart = uniqueLocalpart('bob');
    const registered = await call('POST', `${beta.directoryUrl}/v1/accounts`, {
      body: { ...registrationBody(identity, localpart, { registrationId: 77 }), unidentifiedAccessKey: accessKey.toString('base64') },
    });
    expect(registered.status).toBe(201);
    const bobAddress = registered.body.address as string;
    const socket = await DeviceSocket.connect(beta.relayUrl, registered.body.token, true);
    const body = {
      timestamp: 7,
      messages: [{ deviceId: 1, registrationId: 77, type: 6, content: Buffer.from('sealed!').toString('base64') }],
    };

    const sent = await call('PUT', `${alpha.relayUrl}/v1/messages/${bobAddress}`, {
      body,
      headers: { 'unidentified-access-key': accessKey.toString('base64') },
    });
    expect(sent.status).toBe(200);
    await eventually(() => socket.envelopes.length === 1, 10_000);
    expect(socket.envelopes[0].source).toBeUndefined();
    expect(socket.envelopes[0].sourceDevice).toBeUndefined();
    expect(socket.envelopes[0].type).toBe(6);

    const wrong = await call('PUT', `${alpha.relayUrl}/v1/messages/${bobAddress}`, {
      body,
      headers: { 'unidentified-access-key': randomBytes(16).toString('base64') },
    });
    expect(wrong.status).toBe(401);
    await socket.close();
  });
});
