import { COVERED_COMPONENTS } from './http-signature.constants';
import type { ParsedSignature } from './http-signature.types';
import { checkSignaturePolicy } from './signature-policy.util';

const NOW = 1_700_000_000;
const policy = { requiredComponents: COVERED_COMPONENTS, now: NOW, maxSkewSeconds: 300 };

function parsed(overrides: Partial<ParsedSignature['params']> = {}, components: string[] = [...COVERED_COMPONENTS]): ParsedSignature {
  return {
    label: 'sig1',
    components,
    params: { created: NOW, keyid: 'a.example#k1', alg: 'ed25519', ...overrides },
    signature: new Uint8Array(64),
  };
}

describe('checkSignaturePolicy', () => {
  it('accepts a signature inside the window (inclusive edges)', () => {
    expect(checkSignaturePolicy(parsed(), policy)).toBeNull();
    expect(checkSignaturePolicy(parsed({ created: NOW - 300 }), policy)).toBeNull();
    expect(checkSignaturePolicy(parsed({ created: NOW + 300 }), policy)).toBeNull();
    expect(checkSignaturePolicy(parsed({ expires: NOW }), policy)).toBeNull();
    expect(checkSignaturePolicy(parsed({}, ['extra', ...COVERED_COMPONENTS]), policy)).toBeNull();
  });

  it('requires alg="ed25519"', () => {
    expect(checkSignaturePolicy(parsed({ alg: undefined }), policy)).toBe('alg must be ed25519');
    expect(checkSignaturePolicy(parsed({ alg: 'rsa-pss-sha512' }), policy)).toBe('alg must be ed25519');
    expect(checkSignaturePolicy(parsed({ alg: 'ED25519' }), policy)).toBe('alg must be ed25519');
  });

  it('requires a keyid', () => {
    expect(checkSignaturePolicy(parsed({ keyid: '' }), policy)).toBe('keyid missing');
  });

  it('names the first missing required component', () => {
    for (const name of COVERED_COMPONENTS) {
      const components = COVERED_COMPONENTS.filter((c) => c !== name);
      expect(checkSignaturePolicy(parsed({}, components), policy)).toBe(`missing covered component ${name}`);
    }
    expect(checkSignaturePolicy(parsed({}, []), { ...policy, requiredComponents: [] })).toBeNull();
  });

  it('enforces the created window', () => {
    expect(checkSignaturePolicy(parsed({ created: NOW - 301 }), policy)).toBe('created too old');
    expect(checkSignaturePolicy(parsed({ created: NOW + 301 }), policy)).toBe('created in the future');
    expect(checkSignaturePolicy(parsed({ created: 1.5 }), policy)).toBe('created must be an integer');
  });

  it('enforces expires when present', () => {
    expect(checkSignaturePolicy(parsed({ created: NOW - 100, expires: NOW - 1 }), policy)).toBe('signature expired');
    expect(checkSignaturePolicy(parsed({ created: NOW, expires: NOW - 10 }), policy)).toBe('expires before created');
  });

  it('throws on invalid policy options', () => {
    expect(() => checkSignaturePolicy(parsed(), { ...policy, now: Number.NaN })).toThrow(TypeError);
    expect(() => checkSignaturePolicy(parsed(), { ...policy, maxSkewSeconds: -1 })).toThrow(TypeError);
  });
});
