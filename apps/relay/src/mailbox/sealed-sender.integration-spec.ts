import { randomBytes } from 'node:crypto';
import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { eventually } from '../../../../test/support/bus-listener';
import { RecordingSocket, b64, primary, registerWithAccessKey } from '../../../../test/support/relay-testkit';

/** The raw answer (status and exact body bytes) of a send, for byte-for-byte comparisons. */
async function rawSend(relayUrl: string, address: string, registrationId: number, headers: Record<string, string>) {
  const response = await fetch(`${relayUrl}/v1/messages/${address}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ timestamp: 1, messages: [{ deviceId: 1, registrationId, type: 6, content: b64('sealed') }] }),
  });
  return { status: response.status, body: await response.text(), retryAfter: response.headers.get('retry-after') };
}

/**
 * Sealed sender (DESIGN §4): no Authorization, an Unidentified-Access-Key instead; the envelope
 * carries no source; a wrong key is indistinguishable from an unknown address.
 */
describe('relay: sealed-sender sends', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver();
  });
  afterAll(async () => {
    await hs.close();
  });

  it("accepts a send with the recipient's access key and no Authorization, and delivers it without source or sourceDevice", async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl);
    const sent = await rawSend(hs.relayUrl, bob.address, bob.registrationId, { 'unidentified-access-key': bob.accessKey });
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body)).toEqual({ serverTimestamp: expect.any(Number) });

    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    expect(socket.envelopes).toHaveLength(1);
    const envelope = socket.envelopes[0];
    expect(envelope).toEqual({
      id: expect.any(String),
      type: 6,
      destinationDevice: 1,
      clientTimestamp: 1,
      serverTimestamp: JSON.parse(sent.body).serverTimestamp,
      content: b64('sealed'),
    });
    expect('source' in envelope).toBe(false);
    expect('sourceDevice' in envelope).toBe(false);
    // Not even as a null in the raw frame.
    expect(JSON.stringify(socket.frames[0])).not.toMatch(/source/);
    await socket.close();
  });

  it('a wrong key is 401 with a body byte-identical to an unknown address and to an account without a registered key', async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl);
    const keyless = await registerAccount(hs.directoryUrl, { stem: 'keyless' });
    const anyKey = randomBytes(16).toString('base64');

    const wrongKey = await rawSend(hs.relayUrl, bob.address, bob.registrationId, { 'unidentified-access-key': anyKey });
    const unknownAddress = await rawSend(hs.relayUrl, `nobody-${randomBytes(4).toString('hex')}@alpha.test`, 1, {
      'unidentified-access-key': anyKey,
    });
    const unknownWithBobsKey = await rawSend(hs.relayUrl, `nobody-${randomBytes(4).toString('hex')}@alpha.test`, 1, {
      'unidentified-access-key': bob.accessKey,
    });
    const noRegisteredKey = await rawSend(hs.relayUrl, keyless.address, keyless.registrationId, { 'unidentified-access-key': anyKey });
    // A key that is not even 16 bytes of base64 answers the same.
    const malformedKey = await rawSend(hs.relayUrl, bob.address, bob.registrationId, { 'unidentified-access-key': 'not-a-key' });
    // A wrong key with a wrong device list must not reveal the device list (401, not 409/410).
    const wrongKeyWrongDevices = await rawSend(hs.relayUrl, bob.address, bob.registrationId + 1, { 'unidentified-access-key': anyKey });

    expect(wrongKey.status).toBe(401);
    expect(JSON.parse(wrongKey.body)).toEqual({ error: 'unauthorized', message: expect.any(String) });
    for (const other of [unknownAddress, unknownWithBobsKey, noRegisteredKey, malformedKey, wrongKeyWrongDevices]) {
      expect(other).toEqual(wrongKey);
    }
  });

  it('a send with neither Authorization nor Unidentified-Access-Key is 401, to a known or an unknown address', async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl);
    const known = await rawSend(hs.relayUrl, bob.address, bob.registrationId, {});
    const unknown = await rawSend(hs.relayUrl, `nobody-${randomBytes(4).toString('hex')}@alpha.test`, 1, {});
    expect(known.status).toBe(401);
    expect(JSON.parse(known.body)).toEqual({ error: 'unauthorized', message: expect.any(String) });
    expect(unknown).toEqual(known);
  });

  it('an identified send still carries source and sourceDevice (the access key is only for sends without a token)', async () => {
    const alice = await registerAccount(hs.directoryUrl);
    const bob = await registerWithAccessKey(hs.directoryUrl);
    const sent = await rawSend(hs.relayUrl, bob.address, primary(bob).registrationId, { authorization: `Bearer ${alice.token}` });
    expect(sent.status).toBe(200);
    const socket = await RecordingSocket.connect(hs.relayUrl, bob.token);
    await eventually(() => socket.queueEmptyCount === 1);
    expect(socket.envelopes).toEqual([expect.objectContaining({ source: alice.address, sourceDevice: 1 })]);
    await socket.close();
  });
});
