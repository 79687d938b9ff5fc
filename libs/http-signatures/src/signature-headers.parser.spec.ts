import { parseSignatureHeaders } from './signature-headers.parser';

const SIG_B64 = Buffer.alloc(64, 7).toString('base64');
const INPUT = 'sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="a.example#k1";alg="ed25519";nonce="n"';
const SIGNATURE = `sig1=:${SIG_B64}:`;

function parse(input: string | string[] | undefined, signature: string | string[] | undefined, label?: string) {
  return parseSignatureHeaders({ 'signature-input': input, signature }, label);
}

describe('parseSignatureHeaders', () => {
  it('parses a well-formed signature', () => {
    expect(parse(INPUT, SIGNATURE)).toEqual({
      label: 'sig1',
      components: ['@method', '@target-uri', 'content-digest'],
      params: { created: 1700000000, keyid: 'a.example#k1', alg: 'ed25519', nonce: 'n' },
      signature: new Uint8Array(64).fill(7),
    });
  });

  it('accepts optional parameters being absent, expires, and escaped strings', () => {
    expect(parse('sig1=();created=1;keyid="a\\"b"', SIGNATURE)!.params).toEqual({ created: 1, keyid: 'a"b' });
    expect(parse('sig1=("@method");created=1;keyid="k";expires=2', SIGNATURE)!.params).toEqual({ created: 1, keyid: 'k', expires: 2 });
  });

  it('picks the requested label, or the first Signature-Input member', () => {
    const other = Buffer.alloc(64, 9).toString('base64');
    const input = `proxy=("@method");created=5;keyid="p", ${INPUT}`;
    const signature = `${SIGNATURE}, proxy=:${other}:`;
    expect(parse(input, signature)!.label).toBe('proxy');
    expect(parse(input, signature)!.signature).toEqual(new Uint8Array(64).fill(9));
    expect(parse(input, signature, 'sig1')!.params.keyid).toBe('a.example#k1');
    expect(parse(input, signature, 'nope')).toBeNull();
    expect(parse(input, signature, 'Sig1')).toBeNull();
  });

  it('joins repeated field lines and matches header names case-insensitively', () => {
    const other = `other=("@method");created=5;keyid="p"`;
    expect(parse([other, INPUT], SIGNATURE, 'sig1')!.label).toBe('sig1');
    expect(parseSignatureHeaders({ 'Signature-Input': INPUT, SIGNATURE: SIGNATURE })!.label).toBe('sig1');
  });

  it.each([
    ['missing Signature-Input', undefined, SIGNATURE],
    ['missing Signature', INPUT, undefined],
    ['empty Signature-Input', '', SIGNATURE],
    ['no label', '("@method");created=1;keyid="k"', SIGNATURE],
    ['label without value', 'sig1;created=1', SIGNATURE],
    ['label only in Signature-Input', INPUT, `other=:${SIG_B64}:`],
    ['item instead of inner list', 'sig1="@method";created=1;keyid="k"', SIGNATURE],
    ['unquoted component', 'sig1=(@method);created=1;keyid="k"', SIGNATURE],
    ['token component', 'sig1=(content-digest);created=1;keyid="k"', SIGNATURE],
    ['missing closing quote', 'sig1=("@method);created=1;keyid="k"', SIGNATURE],
    ['unquoted keyid', 'sig1=("@method");created=1;keyid=k', SIGNATURE],
    ['keyid missing its quotes entirely', 'sig1=("@method");created=1;keyid=a.example#k1', SIGNATURE],
    ['string created', 'sig1=("@method");created="1";keyid="k"', SIGNATURE],
    ['decimal created', 'sig1=("@method");created=1.5;keyid="k"', SIGNATURE],
    ['boolean created', 'sig1=("@method");created;keyid="k"', SIGNATURE],
    ['missing created', 'sig1=("@method");keyid="k"', SIGNATURE],
    ['missing keyid', 'sig1=("@method");created=1', SIGNATURE],
    ['token alg', 'sig1=("@method");created=1;keyid="k";alg=ed25519', SIGNATURE],
    ['string expires', 'sig1=("@method");created=1;keyid="k";expires="2"', SIGNATURE],
    ['duplicate parameter', 'sig1=("@method");created=1;created=1;keyid="k"', SIGNATURE],
    ['parameters out of order', 'sig1=("@method");keyid="k";created=1', SIGNATURE],
    ['unknown parameter', 'sig1=("@method");created=1;keyid="k";tag="t"', SIGNATURE],
    ['component with parameters', 'sig1=("content-type";sf);created=1;keyid="k"', SIGNATURE],
    ['upper-case component', 'sig1=("Content-Type");created=1;keyid="k"', SIGNATURE],
    ['unsupported derived component', 'sig1=("@status");created=1;keyid="k"', SIGNATURE],
    ['@signature-params as a component', 'sig1=("@signature-params");created=1;keyid="k"', SIGNATURE],
    ['duplicate component', 'sig1=("@method" "@method");created=1;keyid="k"', SIGNATURE],
    ['duplicate label', `${INPUT}, ${INPUT}`, SIGNATURE],
    ['duplicate signature label', INPUT, `${SIGNATURE}, ${SIGNATURE}`],
    ['trailing garbage', `${INPUT} x`, SIGNATURE],
    ['bad base64 character', INPUT, `sig1=:${SIG_B64.slice(0, -3)}*==:`],
    ['non-canonical base64', INPUT, `sig1=:${SIG_B64.slice(0, -3)}x==:`],
    ['base64 without colons', INPUT, `sig1=${SIG_B64}`],
    ['signature as a string', INPUT, `sig1="${SIG_B64}"`],
    ['short signature', INPUT, `sig1=:${Buffer.alloc(63).toString('base64')}:`],
    ['long signature', INPUT, `sig1=:${Buffer.alloc(65).toString('base64')}:`],
    ['signature with parameters', INPUT, `${SIGNATURE};x=1`],
    ['signature as inner list', INPUT, `sig1=(:${SIG_B64}:)`],
  ])('returns null for %s', (_name, input, signature) => {
    expect(parse(input, signature)).toBeNull();
  });

  it('returns null (never throws) for non-object headers and bad array entries', () => {
    expect(parseSignatureHeaders(null as unknown as Record<string, string>)).toBeNull();
    expect(parseSignatureHeaders({ 'signature-input': [INPUT, 5 as unknown as string], signature: SIGNATURE })).toBeNull();
  });
});
