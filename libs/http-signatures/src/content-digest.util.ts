import { constantTimeEqual, sha256 } from '@sealpost/crypto';
import { isBytes } from './bytes.util';
import { parseDictionary } from './structured-field.parser';

const SHA256_KEY = 'sha-256';
const SHA256_LENGTH = 32;

/**
 * The RFC 9530 Content-Digest header value for `body`: `sha-256=:<base64>:`. A string body is
 * hashed as UTF-8. It must be exactly the bytes that go on the wire. Uses node:crypto, so it works
 * before `initCrypto()`.
 */
export function contentDigest(body: Uint8Array | string): string {
  return `${SHA256_KEY}=:${sha256(body).toString('base64')}:`;
}

/**
 * Checks a received Content-Digest header against the raw request body. The header is parsed as an
 * RFC 8941 Dictionary and may contain several algorithms, but only the `sha-256` member is checked.
 * Returns false if the header is missing or malformed, has no `sha-256` member or more than one,
 * or the digest does not match. The comparison is constant-time. Never throws.
 */
export function verifyContentDigest(header: string | undefined, body: Uint8Array): boolean {
  if (!isBytes(body)) return false;
  const claimed = claimedSha256(header);
  return claimed !== null && constantTimeEqual(claimed, sha256(body));
}

/**
 * The `sha-256` digest a Content-Digest header claims (for checking a body hashed while it is
 * read), or null when the header is missing or malformed, or has no `sha-256` member or more than
 * one. Never throws.
 */
export function claimedSha256(header: string | undefined): Buffer | null {
  try {
    if (typeof header !== 'string') return null;
    const dictionary = parseDictionary(header);
    if (!dictionary) return null;
    const members = dictionary.filter(([key]) => key === SHA256_KEY);
    if (members.length !== 1) return null;
    const member = members[0][1];
    if (member.kind !== 'item' || member.value.type !== 'binary') return null;
    const claimed = member.value.value;
    return claimed.length === SHA256_LENGTH ? Buffer.from(claimed) : null;
  } catch {
    return null;
  }
}
