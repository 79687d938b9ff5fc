import { createHmac } from 'node:crypto';
import type { ServerSecret } from './server-secret';

const PSEUDONYM_BYTES = 16;

/**
 * Stand-ins for addresses, account ids and client IPs in Redis key names: HMAC-SHA256 under a
 * key derived from the server secret, truncated to 128 bits, base64url (no `{`, `}` or `:`, so
 * a pseudonym is a valid Redis Cluster hash tag and one key segment). Without the secret, a
 * pseudonym cannot be reversed by trying every IPv4 address or every known address, as an
 * unkeyed hash can; every replica with the same KEYS_DIR computes the same one.
 *
 * `purpose` separates uses (a claim bucket and a send bucket of the same account differ), and the
 * parts are length-prefixed, so ("ab", "c") and ("a", "bc") never collide.
 */
export class MetadataPseudonyms {
  private readonly key: Buffer;

  constructor(secret: ServerSecret) {
    this.key = secret.deriveKey('redis-key-pseudonyms/v1');
  }

  of(purpose: string, ...parts: (string | number)[]): string {
    const hmac = createHmac('sha256', this.key);
    for (const part of [purpose, ...parts]) {
      const bytes = Buffer.from(String(part), 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      hmac.update(length).update(bytes);
    }
    return hmac.digest().subarray(0, PSEUDONYM_BYTES).toString('base64url');
  }
}
