import {
  LOCALPART_PATTERN,
  MAX_DEVICE_ID,
  MAX_KEY_ID,
  MIN_DEVICE_ID,
  SERVER_PATTERN,
  formatAddress,
  parseAddress,
  parseDeviceSelector,
} from './address';
import { ValidationError } from './validation';

function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but the value was accepted');
}

describe('address constants', () => {
  it('bounds device ids to 1..127 and key ids to 0..2^31-1', () => {
    expect(MIN_DEVICE_ID).toBe(1);
    expect(MAX_DEVICE_ID).toBe(127);
    expect(MAX_KEY_ID).toBe(2 ** 31 - 1);
  });
});

describe('localpart syntax [a-z0-9._-]{1,64}', () => {
  it.each(['a', 'alice', 'a.b_c-d', '0123456789', 'x'.repeat(64), '.', '-', '_'])('accepts %p', (localpart) => {
    expect(LOCALPART_PATTERN.test(localpart)).toBe(true);
    expect(parseAddress(`${localpart}@alpha.example`)).toEqual({ localpart, server: 'alpha.example' });
  });

  it.each([
    ['upper case', 'Alice'],
    ['the empty string', ''],
    ['65 characters', 'x'.repeat(65)],
    ['an @', 'al@ice'],
    ['a space', 'al ice'],
    ['a plus sign', 'alice+tag'],
    ['a non-ASCII letter', 'alicé'],
    ['a slash', 'ali/ce'],
    ['a trailing newline', 'alice\n'],
  ])('refuses %s', (_, localpart) => {
    expect(LOCALPART_PATTERN.test(localpart)).toBe(false);
  });
});

describe('server name syntax (DNS-style, lower case)', () => {
  it.each(['alpha.example', 'localhost', 'a', 'a-b.c-d.example', '127.0.0.1', `${'a'.repeat(63)}.example`])('accepts %p', (server) => {
    expect(SERVER_PATTERN.test(server)).toBe(true);
  });

  it.each([
    ['upper case', 'Alpha.example'],
    ['the empty string', ''],
    ['a label starting with a hyphen', '-alpha.example'],
    ['a label ending with a hyphen', 'alpha-.example'],
    ['an empty label', 'alpha..example'],
    ['a trailing dot', 'alpha.example.'],
    ['a label of 64 characters', `${'a'.repeat(64)}.example`],
    ['more than 253 characters', Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')],
    ['a port', 'alpha.example:8080'],
    ['an underscore', 'al_pha.example'],
    ['a space', 'alpha example'],
  ])('refuses %s', (_, server) => {
    expect(SERVER_PATTERN.test(server)).toBe(false);
  });
});

describe('parseAddress', () => {
  it('splits localpart@server', () => {
    expect(parseAddress('alice@alpha.example')).toEqual({ localpart: 'alice', server: 'alpha.example' });
  });

  it('round-trips through formatAddress', () => {
    expect(formatAddress(parseAddress('bob.smith@beta.example'))).toBe('bob.smith@beta.example');
  });

  it.each([
    ['no @', 'alice.alpha.example'],
    ['an empty localpart', '@alpha.example'],
    ['an empty server', 'alice@'],
    ['two @', 'alice@bob@alpha.example'],
    ['an upper-case localpart', 'Alice@alpha.example'],
    ['an upper-case server', 'alice@Alpha.example'],
    ['a 65-character localpart', `${'x'.repeat(65)}@alpha.example`],
    ['a server with a port', 'alice@alpha.example:443'],
    ['just @', '@'],
    ['the empty string', ''],
  ])('refuses an address with %s', (_, value) => {
    const error = validationErrorOf(() => parseAddress(value));
    expect(error.field).toBe('address');
    expect(error.status).toBe(400);
  });

  it('refuses a non-string, naming the field given by the caller', () => {
    for (const value of [undefined, null, 42, { localpart: 'a', server: 'b' }]) {
      expect(validationErrorOf(() => parseAddress(value, 'destination')).field).toBe('destination');
    }
  });
});

describe('parseDeviceSelector (path segment: 1..127 or *)', () => {
  it('accepts *, both bounds and a value between them', () => {
    expect(parseDeviceSelector('*')).toBe('*');
    expect(parseDeviceSelector('1')).toBe(1);
    expect(parseDeviceSelector('127')).toBe(127);
    expect(parseDeviceSelector('42')).toBe(42);
  });

  it.each([
    ['0', '0'],
    ['128', '128'],
    ['a four-digit id', '1000'],
    ['a negative id', '-1'],
    ['a word', 'abc'],
    ['a fraction', '1.5'],
    ['hexadecimal', '0x1'],
    ['an exponent', '1e2'],
    ['the empty string', ''],
    ['a space', ' 1'],
    ['two stars', '**'],
    ['a number instead of a string', 1],
  ])('refuses %s', (_, value) => {
    const error = validationErrorOf(() => parseDeviceSelector(value));
    expect(error.field).toBe('deviceId');
    expect(error.message).toContain('1..127 or *');
  });
});
