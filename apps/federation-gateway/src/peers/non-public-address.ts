import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 ranges that are never a federation peer: private, loopback, link-local, CGNAT, reserved, documentation… */
const NON_PUBLIC_V4: [number, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
].map(([net, bits]) => [v4ToInt(net as string), bits as number]);

/**
 * IPv6 prefixes inside global unicast (2000::/3) that are still never a peer. Everything outside
 * 2000::/3 is refused anyway, apart from the forms that embed an IPv4 address (judged by it).
 */
const NON_PUBLIC_V6_IN_GLOBAL: [string, number][] = [
  ['2001::', 23], // IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID…
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

function v4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function v4InRange(value: number, net: number, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(net / size);
}

function isNonPublicV4(value: number): boolean {
  return NON_PUBLIC_V4.some(([net, bits]) => v4InRange(value, net, bits));
}

/** The 16 bytes of an IPv6 address (any spelling: `::`, embedded dotted quad, zone id dropped). */
export function ipv6Bytes(address: string): Buffer {
  let text = address.replace(/%.*$/, '');
  const bytes = Buffer.alloc(16);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = v4ToInt(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').filter((g) => g !== '') : []);
  const left = groups(head);
  const right = groups(rest);
  const all = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  all.forEach((g, i) => bytes.writeUInt16BE(parseInt(g, 16), i * 2));
  return bytes;
}

function hasPrefix(bytes: Buffer, prefix: string, bits: number): boolean {
  const net = ipv6Bytes(prefix);
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if ((bytes[bit / 8] & mask) !== (net[bit / 8] & mask)) return false;
  }
  return true;
}

function isNonPublicV6(bytes: Buffer): boolean {
  // Forms whose meaning is an IPv4 address: judged by that address.
  if (hasPrefix(bytes, '::ffff:0:0', 96) || hasPrefix(bytes, '::ffff:0:0:0', 96) || hasPrefix(bytes, '64:ff9b::', 96)) {
    return isNonPublicV4(bytes.readUInt32BE(12));
  }
  if (hasPrefix(bytes, '2002::', 16)) return isNonPublicV4(bytes.readUInt32BE(2)); // 6to4
  // Only global unicast can be a peer: this refuses ::/96 (unspecified, loopback, IPv4-compatible),
  // 64:ff9b:1::/48 (local NAT64), 100::/64 (discard), fc00::/7, fe80::/10, fec0::/10, ff00::/8 and the rest.
  if (!hasPrefix(bytes, '2000::', 3)) return true;
  return NON_PUBLIC_V6_IN_GLOBAL.some(([prefix, bits]) => hasPrefix(bytes, prefix, bits));
}

/**
 * True unless `address` is an IP address that may be a federation peer on the public Internet.
 * Anything that is not an IP literal is non-public (refuse what cannot be judged). Every IPv6
 * spelling of a private IPv4 address counts as that address (IPv4-mapped, -translated, NAT64,
 * 6to4); IPv4-compatible, Teredo, local NAT64 and everything outside 2000::/3 is refused outright.
 */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return isNonPublicV4(v4ToInt(bare));
  if (isIPv6(bare)) return isNonPublicV6(ipv6Bytes(bare));
  return true;
}
