import { assertPublicPeer, isNonPublicAddress } from './ssrf-guard';

/**
 * Issue 9, defect 7: the SSRF guard must know every IPv6 spelling of a private IPv4 address
 * (mapped, compatible, NAT64, 6to4, Teredo…) and the IPv6 ranges that are never a peer.
 */
describe('isNonPublicAddress (SSRF address classifier)', () => {
  it.each([
    // IPv4 private, loopback, link-local, CGNAT, benchmarking, multicast, reserved, documentation
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.10',
    '198.51.100.7',
    '203.0.113.9',
    '192.88.99.1',
    // IPv6 loopback, unspecified, link-local, unique-local, site-local, multicast, documentation, discard
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'fec0::1',
    'ff02::1',
    '2001:db8::1',
    '3fff::1',
    '100::1',
    // IPv4-compatible (::a.b.c.d): the `[::127.0.0.1]` of the audit
    '::127.0.0.1',
    '::7f00:1',
    '::10.0.0.1',
    // IPv4-mapped and IPv4-translated
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:0:127.0.0.1',
    // NAT64: the `[64:ff9b::7f00:1]` of the audit, and the local-use prefix
    '64:ff9b::7f00:1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a00:1',
    '64:ff9b:1::808:808',
    // 6to4 embedding a private IPv4
    '2002:7f00:1::1',
    '2002:c0a8:101::1',
    // Teredo
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    // outside global unicast 2000::/3
    '4000::1',
    // not an address at all
    'localhost',
    '',
  ])('%s is not public', (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s is public', (address) => {
    expect(isNonPublicAddress(address)).toBe(false);
  });
});

describe('assertPublicPeer (URL literals)', () => {
  it.each(['http://[::127.0.0.1]:8080/', 'http://[64:ff9b::7f00:1]/', 'https://[::ffff:7f00:1]/', 'http://2130706433/', 'http://0x7f.1/'])(
    'refuses %s',
    async (url) => {
      await expect(assertPublicPeer(url, false)).rejects.toThrow(/private|loopback/);
    },
  );

  it('lets a loopback literal through when private peers are allowed (tests, private deployments)', async () => {
    await expect(assertPublicPeer('http://[::127.0.0.1]:8080/', true)).resolves.toBeUndefined();
  });
});
