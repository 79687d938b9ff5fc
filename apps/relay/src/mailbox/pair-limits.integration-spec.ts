import { RunningHomeserver, startHomeserver } from '../../../../test/support/homeserver-harness';
import { registerAccount } from '../../../../test/support/accounts';
import { primary, registerWithAccessKey, send } from '../../../../test/support/relay-testkit';

/**
 * Issue 9, defect 6: a budget per sender per recipient (an identified sender's device; for a
 * sealed send, the client's address) is taken before the recipient-wide one, so one flooding
 * sender is refused without using up the recipient's budget, and other senders still get through.
 */
describe('relay: per sender → recipient budget before the recipient-wide one', () => {
  let hs: RunningHomeserver;
  beforeAll(async () => {
    hs = await startHomeserver({
      env: {
        SEND_PAIR_RATE_BURST: '3',
        SEND_PAIR_RATE_PER_MINUTE: '1',
        RECEIVE_RATE_BURST: '6',
        RECEIVE_RATE_PER_MINUTE: '1',
        // Sealed senders are told apart by their address: X-Forwarded-For from the loopback proxy.
        TRUST_PROXY: '127.0.0.1',
      },
    });
  });
  afterAll(() => hs.close());

  it('a flooding sender gets 429 (Retry-After) past its pair budget while a second sender to the same recipient gets 200s', async () => {
    const mallory = await registerAccount(hs.directoryUrl, { stem: 'mallory' });
    const carol = await registerAccount(hs.directoryUrl, { stem: 'carol' });
    const bob = await registerAccount(hs.directoryUrl, { stem: 'bob' });
    const flood: number[] = [];
    for (let i = 0; i < 10; i++)
      flood.push((await send(hs.relayUrl, bob.address, [primary(bob)], 'flood', { token: mallory.token })).status);
    expect(flood).toEqual([200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
    const refused = await send(hs.relayUrl, bob.address, [primary(bob)], 'flood', { token: mallory.token });
    expect(refused.body).toEqual({ error: 'rate_limited', message: expect.any(String), retryAfter: expect.any(Number) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const fromCarol: number[] = [];
    for (let i = 0; i < 3; i++) fromCarol.push((await send(hs.relayUrl, bob.address, [primary(bob)], 'hi', { token: carol.token })).status);
    expect(fromCarol).toEqual([200, 200, 200]);
  });

  it('sealed sends: a flooding client address gets 429 while another client address sending to the same recipient gets 200s', async () => {
    const bob = await registerWithAccessKey(hs.directoryUrl);
    const from = (ip: string) =>
      send(hs.relayUrl, bob.address, [primary(bob)], 'x', { accessKey: bob.accessKey, headers: { 'x-forwarded-for': ip } });
    const flood: number[] = [];
    for (let i = 0; i < 10; i++) flood.push((await from('203.0.113.66')).status);
    expect(flood).toEqual([200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
    const other: number[] = [];
    for (let i = 0; i < 3; i++) other.push((await from('198.51.100.7')).status);
    expect(other).toEqual([200, 200, 200]);
  });
});
