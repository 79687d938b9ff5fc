import type { MetadataPseudonyms } from '@sealpost/crypto';

/**
 * The Redis key of one token bucket: `{prefix}rl:{bucket}:{{pseudonym}}`, where the pseudonym is
 * the keyed hash (server secret) of whatever the bucket counts — an account, a device, a
 * requester → target pair, a client IP. Whoever reads Redis sees how many buckets there are and
 * how full, never whose; the whole pseudonym is the hash tag, so each bucket is one Cluster slot.
 */
export function rateLimitKey(prefix: string, pseudonyms: MetadataPseudonyms, bucket: string, ...subject: (string | number)[]): string {
  return `${prefix}rl:${bucket}:{${pseudonyms.of(`rl:${bucket}`, ...subject)}}`;
}
