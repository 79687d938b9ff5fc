import { SUPPORTED_DERIVED_COMPONENTS } from './http-signature.constants';
import type { ParsedSignatureParams, SignatureParams, SignedRequestParts } from './http-signature.types';
import { derivedComponentValue } from './derived-component.util';
import { serializeInteger, serializeString } from './structured-field.serializer';

/** A lower-case field name: an RFC 9110 token with no upper-case letters. */
const FIELD_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Control characters other than HTAB. A CR or LF would let a value inject extra lines into the base. */
const FORBIDDEN_VALUE_CHARS = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Returns true if `name` is a component identifier this library can sign or verify: a supported
 * derived component (see SUPPORTED_DERIVED_COMPONENTS) or a lower-case header field name. Component
 * parameters (`;sf`, `;key`, `;bs`, `;req`, `;tr`, `;name`) are not supported.
 */
export function isSupportedComponent(name: unknown): name is string {
  if (typeof name !== 'string') return false;
  if (name.startsWith('@')) return SUPPORTED_DERIVED_COMPONENTS.has(name);
  return FIELD_NAME_PATTERN.test(name);
}

/**
 * Builds the RFC 9421 §2.5 signature base. There is one line `"<name>": <value>` per covered
 * component, in the given order, followed by the `"@signature-params"` line. Lines are joined by
 * `\n` and there is no trailing newline.
 *
 * - Header values come from `parts.headers[name]`, looked up by exact lower-case name, with leading
 *   and trailing SP/HTAB removed. If the value is an array at runtime, each entry is trimmed and the
 *   entries are joined by `, ` (RFC 9421 §2.1).
 * - Derived components are resolved from `parts.method` and `parts.targetUri` (derived-component.util.ts).
 *   `@method` is upper-cased.
 * - The `@signature-params` value is the inner list of component names followed by the parameters
 *   created, keyid, alg, nonce and expires, in that order, each written only if present (§2.3).
 *
 * Throws if a component is unsupported or repeated, if a covered header is missing, if a value holds
 * a CR, LF or other control character, or if a parameter cannot be serialised.
 */
export function signatureBase(
  parts: SignedRequestParts,
  components: readonly string[],
  params: SignatureParams | ParsedSignatureParams,
): string {
  const signatureParams = serializeSignatureParams(components, params);
  const lines = components.map((name) => `${serializeString(name)}: ${componentValue(parts, name)}`);
  lines.push(`"@signature-params": ${signatureParams}`);
  return lines.join('\n');
}

/**
 * The serialised `@signature-params` value, which is also what Signature-Input carries for the label,
 * for example `("@method" "content-digest");created=1;keyid="x";alg="ed25519"`.
 */
export function serializeSignatureParams(components: readonly string[], params: SignatureParams | ParsedSignatureParams): string {
  assertComponentList(components);
  if (params === null || typeof params !== 'object') throw new TypeError('signature params are required');
  let out = `(${components.map(serializeString).join(' ')})`;
  out += `;created=${serializeInteger(params.created)}`;
  out += `;keyid=${serializeString(params.keyid)}`;
  if (params.alg !== undefined) out += `;alg=${serializeString(params.alg)}`;
  if (params.nonce !== undefined) out += `;nonce=${serializeString(params.nonce)}`;
  if (params.expires !== undefined) out += `;expires=${serializeInteger(params.expires)}`;
  return out;
}

function assertComponentList(components: readonly string[]): void {
  if (!Array.isArray(components)) throw new TypeError('components must be an array');
  const seen = new Set<string>();
  for (const name of components) {
    if (!isSupportedComponent(name)) throw new Error(`unsupported covered component ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new Error(`covered component ${name} is listed twice`);
    seen.add(name);
  }
}

function componentValue(parts: SignedRequestParts, name: string): string {
  if (!isSupportedComponent(name)) throw new Error(`unsupported covered component ${JSON.stringify(name)}`);
  const value = name.startsWith('@') ? derivedComponentValue(name, parts.method, parts.targetUri) : headerValue(parts, name);
  if (FORBIDDEN_VALUE_CHARS.test(value)) throw new Error(`component ${name} contains control characters`);
  return value;
}

function headerValue(parts: SignedRequestParts, name: string): string {
  const headers = parts.headers;
  if (headers === null || typeof headers !== 'object' || !Object.prototype.hasOwnProperty.call(headers, name)) {
    throw new Error(`covered header ${name} is missing`);
  }
  const raw: unknown = headers[name];
  if (typeof raw === 'string') return trimOws(raw);
  if (Array.isArray(raw) && raw.length > 0 && raw.every((v) => typeof v === 'string')) {
    return raw.map(trimOws).join(', ');
  }
  throw new Error(`covered header ${name} is missing`);
}

function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}
