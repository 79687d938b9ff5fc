import { SIGNATURE_ALGORITHM } from './http-signature.constants';
import type { ParsedSignature, SignaturePolicyOptions } from './http-signature.types';

/**
 * Sealpost's acceptance policy for a parsed signature (DESIGN §5). Returns the first problem found,
 * as a short reason string, or null if the signature is acceptable. The checks, in order:
 *
 * - `alg must be ed25519`: alg must be present and equal to `"ed25519"`.
 * - `keyid missing`: keyid must not be empty.
 * - `missing covered component <name>`: every required component must be covered.
 * - `created in the future`: created must not be more than maxSkewSeconds after now.
 * - `created too old`: created must not be more than maxSkewSeconds before now.
 * - `expires before created`, `signature expired`: checked when expires is present.
 *
 * Time values are UNIX seconds. The caller must still check that keyid names a known key for the
 * origin, verify the signature and Content-Digest, and reject replays. Throws a TypeError if
 * `now` or `maxSkewSeconds` is not a finite number, since that is a programming error.
 */
export function checkSignaturePolicy(parsed: ParsedSignature, policy: SignaturePolicyOptions): string | null {
  const { requiredComponents, now, maxSkewSeconds } = policy;
  if (!Number.isFinite(now) || !Number.isFinite(maxSkewSeconds) || maxSkewSeconds < 0) {
    throw new TypeError('checkSignaturePolicy: now and maxSkewSeconds must be finite, non-negative numbers');
  }
  const { params, components } = parsed;
  if (params.alg !== SIGNATURE_ALGORITHM) return 'alg must be ed25519';
  if (typeof params.keyid !== 'string' || params.keyid === '') return 'keyid missing';
  for (const name of requiredComponents) {
    if (!components.includes(name)) return `missing covered component ${name}`;
  }
  if (!Number.isSafeInteger(params.created)) return 'created must be an integer';
  if (params.created > now + maxSkewSeconds) return 'created in the future';
  if (params.created < now - maxSkewSeconds) return 'created too old';
  if (params.expires !== undefined) {
    if (!Number.isSafeInteger(params.expires)) return 'expires must be an integer';
    if (params.expires < params.created) return 'expires before created';
    if (now > params.expires) return 'signature expired';
  }
  return null;
}
