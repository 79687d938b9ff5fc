import sodium from 'libsodium-wrappers';
import { isBytes, utf8 } from './bytes.util';
import { COVERED_COMPONENTS, DEFAULT_SIGNATURE_LABEL, ED25519_SECRET_KEY_LENGTH, SIGNATURE_ALGORITHM } from './http-signature.constants';
import type { SignatureHeaders, SignatureParams, SignedRequestParts, SignRequestOptions } from './http-signature.types';
import { serializeSignatureParams, signatureBase } from './signature-base.util';
import { serializeByteSequence, serializeKey } from './structured-field.serializer';

/**
 * Signs a federation request (RFC 9421, `alg="ed25519"`) over COVERED_COMPONENTS and returns the
 * `signature-input` and `signature` headers to add. `parts.headers` must already contain
 * `content-digest` (see `contentDigest`), `sealpost-origin` and `sealpost-destination`. The request
 * must then be sent with exactly this method, target URI and those header values.
 *
 * Throws if a covered header is missing, if the secret key is not 64 bytes, or if the label,
 * keyid, nonce or created cannot be serialised. Requires `initCrypto()` (libsodium).
 */
export function signRequest(parts: SignedRequestParts, opts: SignRequestOptions): SignatureHeaders {
  const label = serializeKey(opts.label ?? DEFAULT_SIGNATURE_LABEL);
  if (!isBytes(opts.secretKey) || opts.secretKey.length !== ED25519_SECRET_KEY_LENGTH) {
    throw new TypeError(`secretKey must be a ${ED25519_SECRET_KEY_LENGTH}-byte Ed25519 secret key`);
  }
  const params: SignatureParams = {
    created: opts.created ?? Math.floor(Date.now() / 1000),
    keyid: opts.keyId,
    alg: SIGNATURE_ALGORITHM,
    ...(opts.nonce !== undefined ? { nonce: opts.nonce } : {}),
  };
  if (params.created < 0) throw new RangeError('created must not be negative');
  const components = [...COVERED_COMPONENTS];
  const base = signatureBase(parts, components, params);
  const signature = signBase(base, opts.secretKey);
  return {
    'signature-input': `${label}=${serializeSignatureParams(components, params)}`,
    signature: `${label}=${serializeByteSequence(signature)}`,
  };
}

/** Ed25519 signature (RFC 9421 §3.3.6) over the UTF-8 bytes of a signature base. Requires `initCrypto()`. */
export function signBase(base: string, secretKey: Uint8Array): Uint8Array {
  const key = secretKey instanceof Uint8Array ? secretKey : new Uint8Array(secretKey);
  return sodium.crypto_sign_detached(utf8(base), key);
}
