import {
  ValidationError,
  optional,
  rejectUnknownFields,
  requireArray,
  requireBase64,
  requireBool,
  requireInt,
  requireObject,
  requireString,
} from './validation';

/** Runs `fn`, expects a ValidationError, and returns it so the test can check field, status and message. */
function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but the value was accepted');
}

const b64 = (bytes: number, fill = 0xab) => Buffer.alloc(bytes, fill).toString('base64');

describe('ValidationError', () => {
  it('carries the field, a 400 invalid_request default, and a message that starts with the field', () => {
    const error = new ValidationError('preKeys[3].publicKey', 'is wrong');
    expect(error.field).toBe('preKeys[3].publicKey');
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toBe('preKeys[3].publicKey: is wrong');
  });
});

describe('requireObject', () => {
  it('accepts a plain object and returns it unchanged', () => {
    const obj = { a: 1 };
    expect(requireObject(obj, 'body')).toBe(obj);
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['undefined', undefined],
    ['a string', '{}'],
    ['a number', 42],
    ['a boolean', true],
  ])('refuses %s, naming the field', (_, value) => {
    const error = validationErrorOf(() => requireObject(value, 'signedPreKey'));
    expect(error.field).toBe('signedPreKey');
    expect(error.message).toMatch(/^signedPreKey: must be a JSON object/);
  });
});

describe('rejectUnknownFields', () => {
  it('accepts an object whose keys are all known, including when some known ones are missing', () => {
    expect(() => rejectUnknownFields({ keyId: 1 }, ['keyId', 'publicKey'], 'preKeys[0]')).not.toThrow();
  });

  it('names an unknown field under its parent', () => {
    const error = validationErrorOf(() => rejectUnknownFields({ keyId: 1, extra: true }, ['keyId'], 'preKeys[2]'));
    expect(error.field).toBe('preKeys[2].extra');
    expect(error.message).toContain('is not a known field');
  });

  it('names an unknown top-level field by itself when the parent is the body', () => {
    expect(validationErrorOf(() => rejectUnknownFields({ admin: true }, ['localpart'], '')).field).toBe('admin');
  });

  it('treats keys named like Object.prototype members as unknown, not as allowed', () => {
    const obj = JSON.parse('{"constructor": 1, "toString": 2}') as Record<string, unknown>;
    expect(validationErrorOf(() => rejectUnknownFields(obj, ['keyId'], '')).field).toBe('constructor');
  });
});

describe('requireInt', () => {
  it('accepts both bounds and a value between them', () => {
    expect(requireInt(0, 'keyId', 0, 10)).toBe(0);
    expect(requireInt(10, 'keyId', 0, 10)).toBe(10);
    expect(requireInt(5, 'keyId', 0, 10)).toBe(5);
  });

  it.each([
    ['one below the minimum', -1],
    ['one above the maximum', 11],
    ['a fraction', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a numeric string', '5'],
    ['null', null],
    ['a boolean', true],
  ])('refuses %s and states the allowed range', (_, value) => {
    const error = validationErrorOf(() => requireInt(value, 'registrationId', 0, 10));
    expect(error.field).toBe('registrationId');
    expect(error.message).toBe('registrationId: must be an integer in 0..10');
  });
});

describe('requireBool', () => {
  it('accepts true and false only', () => {
    expect(requireBool(true, 'urgent')).toBe(true);
    expect(requireBool(false, 'urgent')).toBe(false);
    expect(validationErrorOf(() => requireBool('true', 'urgent')).field).toBe('urgent');
    expect(validationErrorOf(() => requireBool(1, 'urgent')).field).toBe('urgent');
  });
});

describe('requireString', () => {
  const LOWER = /^[a-z]{1,3}$/;

  it('accepts a string matching the pattern', () => {
    expect(requireString('abc', 'code', LOWER, 'lower case')).toBe('abc');
  });

  it('refuses a non-matching string and a non-string, describing what is expected', () => {
    expect(validationErrorOf(() => requireString('ABC', 'code', LOWER, 'lower case')).message).toBe('code: must be lower case');
    expect(validationErrorOf(() => requireString(123, 'code', LOWER, 'lower case')).field).toBe('code');
    expect(validationErrorOf(() => requireString(['abc'], 'code', LOWER, 'lower case')).field).toBe('code');
  });
});

describe('requireArray', () => {
  it('accepts an array up to the item limit, including an empty one', () => {
    expect(requireArray([], 'preKeys', 2)).toEqual([]);
    expect(requireArray([1, 2], 'preKeys', 2)).toEqual([1, 2]);
  });

  it('refuses one item more than the limit, stating the limit', () => {
    const error = validationErrorOf(() => requireArray([1, 2, 3], 'preKeys', 2));
    expect(error.field).toBe('preKeys');
    expect(error.message).toContain('at most 2 items');
  });

  it('refuses an object, a string and null', () => {
    for (const value of [{ 0: 'a', length: 1 }, 'abc', null]) {
      expect(validationErrorOf(() => requireArray(value, 'preKeys', 2)).message).toBe('preKeys: must be an array');
    }
  });
});

describe('requireBase64 (standard padded base64, RFC 4648 §4)', () => {
  it('decodes padded base64 of every padding length', () => {
    expect(requireBase64('AQID', 'k', 0, 10)).toEqual(Buffer.from([1, 2, 3]));
    expect(requireBase64('AQI=', 'k', 0, 10)).toEqual(Buffer.from([1, 2]));
    expect(requireBase64('AQ==', 'k', 0, 10)).toEqual(Buffer.from([1]));
  });

  it('accepts + and / from the standard alphabet', () => {
    expect(requireBase64('+/+/', 'k', 3, 3)).toEqual(Buffer.from([0xfb, 0xff, 0xbf]));
  });

  it.each([
    ['unpadded input', 'AQI'],
    ['unpadded input of one trailing character group', 'AQ'],
    ['too much padding', 'AQI=='],
    ['padding in the middle', 'AQ==AQID'],
    ['a length that is not a multiple of 4', 'AQIDB'],
    ['the URL-safe alphabet (-)', '-_-_'],
    ['the URL-safe alphabet (_)', 'AQ_D'],
    ['inner whitespace', 'AQ ID'],
    ['a trailing newline', 'AQID\n'],
    ['a leading space', ' AQID'],
    ['a non-ASCII letter', 'AQIé'],
    ['a non-string (number)', 1234],
    ['a non-string (byte array)', [1, 2, 3]],
    ['null', null],
  ])('refuses %s', (_, value) => {
    const error = validationErrorOf(() => requireBase64(value, 'identityKey', 0, 64));
    expect(error.field).toBe('identityKey');
    expect(error.message).toBe('identityKey: must be standard padded base64');
  });

  it('accepts exactly the byte-length bounds and refuses one byte outside either bound', () => {
    expect(requireBase64(b64(32), 'identityKey', 32, 33)).toHaveLength(32);
    expect(requireBase64(b64(33), 'identityKey', 32, 33)).toHaveLength(33);
    expect(validationErrorOf(() => requireBase64(b64(31), 'identityKey', 32, 33)).message).toBe(
      'identityKey: must decode to 32..33 bytes, got 31',
    );
    expect(validationErrorOf(() => requireBase64(b64(34), 'identityKey', 32, 33)).message).toBe(
      'identityKey: must decode to 32..33 bytes, got 34',
    );
  });

  it('states a single exact length when both bounds are equal', () => {
    expect(validationErrorOf(() => requireBase64(b64(63), 'signature', 64, 64)).message).toBe('signature: must decode to 64 bytes, got 63');
  });

  it('refuses the empty string when at least one byte is required', () => {
    expect(validationErrorOf(() => requireBase64('', 'signature', 1, 64)).message).toContain('got 0');
  });
});

describe('optional', () => {
  it('skips the parser for undefined and null, and runs it otherwise', () => {
    const parse = jest.fn((v: unknown) => `parsed ${String(v)}`);
    expect(optional(undefined, parse)).toBeUndefined();
    expect(optional(null, parse)).toBeUndefined();
    expect(parse).not.toHaveBeenCalled();
    expect(optional(0, parse)).toBe('parsed 0');
    expect(optional('', parse)).toBe('parsed ');
  });
});
