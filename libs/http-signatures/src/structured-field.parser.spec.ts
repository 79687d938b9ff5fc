import { decodeCanonicalBase64, parseDictionary } from './structured-field.parser';
import { serializeInteger, serializeKey, serializeString } from './structured-field.serializer';

describe('parseDictionary (RFC 8941)', () => {
  it('parses inner lists, items, parameters and every bare item type', () => {
    const dict = parseDictionary('a=("x" "y\\"z");n=1;s="q", b=:AQID:, c=?0, d=tok/en:1;p, e=-1.5, f, g=42');
    expect(dict).not.toBeNull();
    const map = new Map(dict!);
    expect(map.get('a')).toEqual({
      kind: 'inner-list',
      items: [
        { kind: 'item', value: { type: 'string', value: 'x' }, params: [] },
        { kind: 'item', value: { type: 'string', value: 'y"z' }, params: [] },
      ],
      params: [
        ['n', { type: 'integer', value: 1 }],
        ['s', { type: 'string', value: 'q' }],
      ],
    });
    expect(map.get('b')).toEqual({ kind: 'item', value: { type: 'binary', value: Uint8Array.of(1, 2, 3) }, params: [] });
    expect(map.get('c')).toEqual({ kind: 'item', value: { type: 'boolean', value: false }, params: [] });
    expect(map.get('d')).toEqual({
      kind: 'item',
      value: { type: 'token', value: 'tok/en:1' },
      params: [['p', { type: 'boolean', value: true }]],
    });
    expect(map.get('e')).toEqual({ kind: 'item', value: { type: 'decimal', value: -1.5 }, params: [] });
    expect(map.get('f')).toEqual({ kind: 'item', value: { type: 'boolean', value: true }, params: [] });
    expect(map.get('g')).toEqual({ kind: 'item', value: { type: 'integer', value: 42 }, params: [] });
  });

  it('allows OWS around commas and SP inside inner lists, and trims surrounding SP', () => {
    expect(parseDictionary('  a=( "x"  "y" ) ,\tb=1  ')).toHaveLength(2);
    expect(parseDictionary('')).toEqual([]);
  });

  it('keeps duplicate keys for the caller to judge', () => {
    expect(parseDictionary('a=1, a=2')!.map(([k]) => k)).toEqual(['a', 'a']);
  });

  it.each([
    ['trailing comma', 'a=1,'],
    ['leading comma', ',a=1'],
    ['upper-case key', 'A=1'],
    ['key starting with a digit', '1a=1'],
    ['unterminated string', 'a="x'],
    ['bad escape', 'a="\\n"'],
    ['non-ASCII in string', 'a="é"'],
    ['control character in string', 'a="\t"'],
    ['unterminated inner list', 'a=("x" "y"'],
    ['no space between inner-list items', 'a=("x""y")'],
    ['unterminated byte sequence', 'a=:AQID'],
    ['invalid base64 character', 'a=:AQ*D:'],
    ['impossible base64 length', 'a=:AQIDB:'],
    ['padding in the middle', 'a=:AQ==AQ==:'],
    ['non-zero pad bits', 'a=:AR==:'],
    ['bad boolean', 'a=?2'],
    ['integer too long', 'a=1234567890123456'],
    ['decimal with 4 fraction digits', 'a=1.2345'],
    ['decimal ending in a dot', 'a=1.'],
    ['bare minus', 'a=-'],
    ['garbage after a member', 'a=1 b=2'],
    ['date (RFC 9651) unsupported', 'a=@1'],
    ['empty value', 'a='],
  ])('rejects %s', (_name, input) => {
    expect(parseDictionary(input)).toBeNull();
  });

  it('returns null for non-string input', () => {
    expect(parseDictionary(undefined as unknown as string)).toBeNull();
  });
});

describe('decodeCanonicalBase64', () => {
  it('accepts padded and unpadded canonical base64', () => {
    expect(decodeCanonicalBase64('AQ==')).toEqual(Uint8Array.of(1));
    expect(decodeCanonicalBase64('AQ')).toEqual(Uint8Array.of(1));
    expect(decodeCanonicalBase64('')).toEqual(new Uint8Array(0));
  });

  it.each(['AQ=', 'A', 'AR==', 'AQ==A', '-_8=', 'AQ= ='])('rejects %j', (text) => {
    expect(decodeCanonicalBase64(text)).toBeNull();
  });
});

describe('structured-field serialisers', () => {
  it('serialises strings with escapes and refuses non-printable ASCII', () => {
    expect(serializeString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(() => serializeString('line\nbreak')).toThrow(TypeError);
    expect(() => serializeString('é')).toThrow(TypeError);
  });

  it('serialises integers within the RFC 8941 range only', () => {
    expect(serializeInteger(-5)).toBe('-5');
    expect(serializeInteger(999_999_999_999_999)).toBe('999999999999999');
    expect(() => serializeInteger(1_000_000_000_000_000)).toThrow(TypeError);
    expect(() => serializeInteger(1.5)).toThrow(TypeError);
    expect(() => serializeInteger(Number.NaN)).toThrow(TypeError);
  });

  it('validates keys', () => {
    expect(serializeKey('sig-1.a*_')).toBe('sig-1.a*_');
    expect(() => serializeKey('Sig')).toThrow(TypeError);
    expect(() => serializeKey('')).toThrow(TypeError);
  });
});
