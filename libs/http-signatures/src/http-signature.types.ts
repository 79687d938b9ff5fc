/**
 * The parts of an outgoing or incoming request that a signature covers. Header names are the keys
 * of `headers` and must be lower-case. Only own properties are read, so names like `constructor`
 * cannot pick up values from the prototype.
 */
export interface SignedRequestParts {
  /** HTTP method. `@method` upper-cases it (see signature-base.util.ts). */
  method: string;
  /** The full absolute target URI: scheme, authority, path and query, with no fragment. */
  targetUri: string;
  /** Lower-case header name → header value. Combine repeated field lines with `, ` before passing them. */
  headers: Record<string, string>;
}

/** Signature parameters that Sealpost signs, serialised in this order: created, keyid, alg, nonce, expires. */
export interface SignatureParams {
  /** UNIX time in seconds. */
  created: number;
  /** Sealpost uses `{server}#{keyId}` (DESIGN §5). */
  keyid: string;
  alg: 'ed25519';
  nonce?: string;
  /** UNIX time in seconds. */
  expires?: number;
}

/**
 * Signature parameters as a peer sent them. RFC 9421 makes `alg` optional, and a peer may name a
 * different algorithm, so `alg` is unchecked here. `checkSignaturePolicy` refuses anything that is
 * not `"ed25519"`. A `SignatureParams` value can be used wherever this type is expected.
 */
export type ParsedSignatureParams = Omit<SignatureParams, 'alg'> & { alg?: string };

/** One signature taken from the Signature-Input and Signature headers. */
export interface ParsedSignature {
  label: string;
  /** Covered component identifiers, in the order they were signed. */
  components: string[];
  params: ParsedSignatureParams;
  /** The raw 64-byte Ed25519 signature. */
  signature: Uint8Array;
}

export interface SignRequestOptions {
  /** Written to the `keyid` parameter. Sealpost uses `{server}#{keyId}`. */
  keyId: string;
  /** The 64-byte libsodium Ed25519 secret key (seed followed by public key). */
  secretKey: Uint8Array;
  /** UNIX time in seconds. Defaults to the current time. */
  created?: number;
  nonce?: string;
  /** Dictionary key used in both headers. Defaults to `sig1`. */
  label?: string;
}

/** The headers to add to a signed request. Both names are lower-case. */
export interface SignatureHeaders {
  'signature-input': string;
  signature: string;
}

export interface SignaturePolicyOptions {
  /** Components that must be covered, for example `COVERED_COMPONENTS`. */
  requiredComponents: readonly string[];
  /** The current UNIX time in seconds. */
  now: number;
  /** How far `created` may be from `now`, in either direction, in seconds. */
  maxSkewSeconds: number;
}
