import { ED25519_SIGNATURE_LENGTH, SIGNATURE_PARAM_ORDER } from './http-signature.constants';
import type { ParsedSignature, ParsedSignatureParams } from './http-signature.types';
import { isSupportedComponent } from './signature-base.util';
import { parseDictionary } from './structured-field.parser';
import { isStructuredFieldKey } from './structured-field.serializer';
import type { SfDictionary, SfParameters } from './structured-field.types';

type IncomingHeaders = Record<string, string | string[] | undefined>;

/**
 * Reads one signature from the `Signature-Input` and `Signature` headers (RFC 9421 §4). Header
 * names are matched case-insensitively, and repeated field lines are joined with `, `.
 *
 * `label` selects the signature. Without it, the first member of Signature-Input is used. Both
 * headers must parse completely as RFC 8941 Dictionaries, and neither may repeat a label. The
 * selected members must have these shapes:
 *
 * - Signature-Input: an inner list of distinct, supported component names (strings without
 *   parameters), followed by parameters from created, keyid, alg, nonce and expires in that order.
 *   Each may appear at most once. created (Integer) and keyid (String) are required, alg and nonce
 *   must be Strings, and expires must be an Integer. Unknown parameters are refused.
 * - Signature: a Byte Sequence with no parameters that decodes to 64 bytes.
 *
 * The fixed parameter order is stricter than RFC 9421. The verifier rebuilds `@signature-params`
 * in this order, so accepting any other order would only produce a signature that cannot verify.
 * Returns null on anything else. Never throws.
 */
export function parseSignatureHeaders(headers: IncomingHeaders, label?: string): ParsedSignature | null {
  try {
    if (headers === null || typeof headers !== 'object') return null;
    if (label !== undefined && !isStructuredFieldKey(label)) return null;
    const inputField = headerField(headers, 'signature-input');
    const signatureField = headerField(headers, 'signature');
    if (inputField === null || signatureField === null) return null;

    const inputs = parseDictionary(inputField);
    const signatures = parseDictionary(signatureField);
    if (!inputs || !signatures || inputs.length === 0 || hasDuplicateKeys(inputs) || hasDuplicateKeys(signatures)) {
      return null;
    }

    const chosen = label ?? inputs[0][0];
    const input = inputs.find(([key]) => key === chosen)?.[1];
    const signatureMember = signatures.find(([key]) => key === chosen)?.[1];
    if (!input || !signatureMember || input.kind !== 'inner-list') return null;

    const components: string[] = [];
    for (const item of input.items) {
      if (item.value.type !== 'string' || item.params.length > 0) return null;
      const name = item.value.value;
      if (!isSupportedComponent(name) || components.includes(name)) return null;
      components.push(name);
    }

    const params = readParams(input.params);
    if (!params) return null;

    if (signatureMember.kind !== 'item' || signatureMember.params.length > 0) return null;
    if (signatureMember.value.type !== 'binary') return null;
    const signature = signatureMember.value.value;
    if (signature.length !== ED25519_SIGNATURE_LENGTH) return null;

    return { label: chosen, components, params, signature: Uint8Array.from(signature) };
  } catch {
    return null;
  }
}

function headerField(headers: IncomingHeaders, name: string): string | null {
  const values: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value = headers[key];
    if (typeof value === 'string') values.push(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) values.push(...value);
    else if (value !== undefined) return null;
  }
  return values.length > 0 ? values.join(', ') : null;
}

function hasDuplicateKeys(dictionary: SfDictionary): boolean {
  return new Set(dictionary.map(([key]) => key)).size !== dictionary.length;
}

function readParams(sfParams: SfParameters): ParsedSignatureParams | null {
  const order: readonly string[] = SIGNATURE_PARAM_ORDER;
  const params: Partial<ParsedSignatureParams> = {};
  let lastIndex = -1;
  for (const [key, value] of sfParams) {
    const index = order.indexOf(key);
    if (index <= lastIndex) return null; // unknown, repeated or out of order
    lastIndex = index;
    switch (key) {
      case 'created':
      case 'expires':
        if (value.type !== 'integer') return null;
        params[key] = value.value;
        break;
      case 'keyid':
      case 'alg':
      case 'nonce':
        if (value.type !== 'string') return null;
        params[key] = value.value;
        break;
    }
  }
  if (params.created === undefined || params.keyid === undefined) return null;
  return {
    created: params.created,
    keyid: params.keyid,
    ...(params.alg !== undefined ? { alg: params.alg } : {}),
    ...(params.nonce !== undefined ? { nonce: params.nonce } : {}),
    ...(params.expires !== undefined ? { expires: params.expires } : {}),
  };
}
