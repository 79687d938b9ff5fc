/** The components every Sealpost federation request covers (DESIGN §5), in signing order. */
export const COVERED_COMPONENTS = Object.freeze([
  '@method',
  '@target-uri',
  'content-digest',
  'sealpost-origin',
  'sealpost-destination',
] as const);

/** The only signature algorithm Sealpost accepts (RFC 9421 §3.3.6). */
export const SIGNATURE_ALGORITHM = 'ed25519';

/** The default dictionary key for the signature in Signature-Input and Signature. */
export const DEFAULT_SIGNATURE_LABEL = 'sig1';

/** Sizes of Ed25519 keys and signatures, in bytes. */
export const ED25519_SECRET_KEY_LENGTH = 64;
export const ED25519_SIGNATURE_LENGTH = 64;

/**
 * The RFC 9421 §2.2 derived components that this library can resolve for a request. `@query-param`
 * is left out because it needs a `name` parameter, and component parameters are not supported.
 * `@status` is left out because it applies only to responses.
 */
export const SUPPORTED_DERIVED_COMPONENTS: ReadonlySet<string> = new Set([
  '@method',
  '@target-uri',
  '@authority',
  '@scheme',
  '@request-target',
  '@path',
  '@query',
]);

/** Signature parameters that are understood, in the order they must appear. */
export const SIGNATURE_PARAM_ORDER = Object.freeze(['created', 'keyid', 'alg', 'nonce', 'expires'] as const);
