import { randomBytes } from 'node:crypto';
import {
  MAX_REGISTRATION_ID,
  parseDeviceIdParam,
  parseLinkDeviceRequest,
  parseRegisterAccountRequest,
  parseUploadKeysRequest,
} from './directory-api';
import { EC_KEY_BYTES, KEM_KEY_MAX_BYTES, SIGNATURE_BYTES } from './prekeys';
import { ValidationError } from './validation';

/**
 * Parsers check shape only (types, base64, lengths, bounds, duplicates); type bytes and
 * signatures are checked by the directory. So random bytes of the right lengths are enough here.
 */
const MAX_PER_UPLOAD = 10;
const b64 = (bytes: Buffer) => bytes.toString('base64');
const ecKey = () => b64(Buffer.concat([Buffer.of(0x05), randomBytes(32)]));
const kemKey = () => b64(Buffer.concat([Buffer.of(0x08), randomBytes(1568)]));
const signature = () => b64(randomBytes(SIGNATURE_BYTES));
const signedEc = (keyId: number) => ({ keyId, publicKey: ecKey(), signature: signature() });
const signedKem = (keyId: number) => ({ keyId, publicKey: kemKey(), signature: signature() });
const oneTime = (keyId: number) => ({ keyId, publicKey: ecKey() });

function registrationBody(): Record<string, any> {
  return {
    localpart: 'alice',
    identityKey: ecKey(),
    registrationId: 1234,
    signedPreKey: signedEc(1),
    pqLastResortPreKey: signedKem(999),
    preKeys: [oneTime(1), oneTime(2), oneTime(3), oneTime(4), oneTime(5)],
    pqPreKeys: [signedKem(1000), signedKem(1001)],
  };
}

function linkBody(): Record<string, any> {
  const { registrationId, signedPreKey, pqLastResortPreKey, preKeys, pqPreKeys } = registrationBody();
  return { code: 'Ab3_dE-fGh1jK2lM', registrationId, signedPreKey, pqLastResortPreKey, preKeys, pqPreKeys };
}

function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but the request was accepted');
}

const register = (body: unknown) => parseRegisterAccountRequest(body, MAX_PER_UPLOAD);
/** The field a registration body is refused for, after `mutate` changed a well-formed one. */
const refusedRegistrationField = (mutate: (body: Record<string, any>) => void) => {
  const body = registrationBody();
  mutate(body);
  return validationErrorOf(() => register(body)).field;
};

describe('parseRegisterAccountRequest', () => {
  it('accepts a well-formed body and decodes every binary field', () => {
    const body = registrationBody();
    const parsed = register(body);
    expect(parsed.localpart).toBe('alice');
    expect(parsed.registrationId).toBe(1234);
    expect(parsed.identityKey).toEqual(Buffer.from(body.identityKey, 'base64'));
    expect(parsed.signedPreKey).toEqual({ keyId: 1, publicKey: expect.any(Buffer), signature: expect.any(Buffer) });
    expect(parsed.signedPreKey.publicKey).toHaveLength(EC_KEY_BYTES);
    expect(parsed.pqLastResortPreKey.publicKey).toHaveLength(1569);
    expect(parsed.preKeys.map((k) => k.keyId)).toEqual([1, 2, 3, 4, 5]);
    expect(parsed.pqPreKeys.map((k) => k.keyId)).toEqual([1000, 1001]);
    expect(parsed.registrationToken).toBeUndefined();
    expect(parsed.unidentifiedAccessKey).toBeUndefined();
  });

  it('treats absent one-time key lists as empty', () => {
    const body = registrationBody();
    delete body.preKeys;
    delete body.pqPreKeys;
    expect(register(body)).toMatchObject({ preKeys: [], pqPreKeys: [] });
  });

  it('accepts the optional registration token and a 16-byte unidentified access key', () => {
    const body = { ...registrationBody(), registrationToken: 'tok_EN-123', unidentifiedAccessKey: b64(randomBytes(16)) };
    const parsed = register(body);
    expect(parsed.registrationToken).toBe('tok_EN-123');
    expect(parsed.unidentifiedAccessKey).toHaveLength(16);
  });

  it.each([
    ['an array', []],
    ['a string', 'alice'],
    ['a number', 7],
    ['null', null],
  ])('refuses %s as the body, naming "body"', (_, body) => {
    expect(validationErrorOf(() => register(body)).field).toBe('body');
  });

  it('refuses an unknown top-level field, naming it', () => {
    expect(
      refusedRegistrationField((b) => {
        b.isAdmin = true;
      }),
    ).toBe('isAdmin');
  });

  it('refuses an unknown field inside a key, naming its full path', () => {
    expect(
      refusedRegistrationField((b) => {
        b.signedPreKey.extra = 1;
      }),
    ).toBe('signedPreKey.extra');
    expect(
      refusedRegistrationField((b) => {
        b.preKeys[1].signature = signature();
      }),
    ).toBe('preKeys[1].signature');
  });

  describe('localpart', () => {
    it.each([
      ['upper case', 'Alice'],
      ['empty', ''],
      ['65 characters', 'a'.repeat(65)],
      ['an @', 'alice@alpha.example'],
      ['missing', undefined],
      ['a number', 12],
    ])('refuses %s', (_, localpart) => {
      expect(
        refusedRegistrationField((b) => {
          b.localpart = localpart;
        }),
      ).toBe('localpart');
    });

    it('accepts 64 characters', () => {
      const body = { ...registrationBody(), localpart: 'a'.repeat(64) };
      expect(register(body).localpart).toHaveLength(64);
    });
  });

  describe('identityKey', () => {
    it('accepts 32 (Ed25519) and 33 (Curve25519) bytes', () => {
      expect(register({ ...registrationBody(), identityKey: b64(randomBytes(32)) }).identityKey).toHaveLength(32);
      expect(register({ ...registrationBody(), identityKey: ecKey() }).identityKey).toHaveLength(33);
    });

    it.each([
      ['31 bytes', b64(randomBytes(31))],
      ['34 bytes', b64(randomBytes(34))],
      ['unpadded base64', b64(randomBytes(32)).replace(/=+$/, '')],
      ['URL-safe base64', b64(Buffer.alloc(33, 0xfb)).replace(/\+/g, '-').replace(/\//g, '_')],
      ['missing', undefined],
    ])('refuses %s', (_, identityKey) => {
      expect(
        refusedRegistrationField((b) => {
          b.identityKey = identityKey;
        }),
      ).toBe('identityKey');
    });
  });

  describe('registrationId (14-bit, 1..16383)', () => {
    it('accepts 1 and 16383', () => {
      expect(MAX_REGISTRATION_ID).toBe(16383);
      expect(register({ ...registrationBody(), registrationId: 1 }).registrationId).toBe(1);
      expect(register({ ...registrationBody(), registrationId: 16383 }).registrationId).toBe(16383);
    });

    it.each([
      ['0', 0],
      ['16384', 16384],
      ['-1', -1],
      ['a fraction', 1.5],
      ['a string', '1234'],
      ['missing', undefined],
    ])('refuses %s', (_, registrationId) => {
      expect(
        refusedRegistrationField((b) => {
          b.registrationId = registrationId;
        }),
      ).toBe('registrationId');
    });
  });

  describe('key ids (0..2^31-1)', () => {
    it('accepts 0 and 2^31-1', () => {
      const body = registrationBody();
      body.signedPreKey.keyId = 0;
      body.pqLastResortPreKey.keyId = 2 ** 31 - 1;
      const parsed = register(body);
      expect(parsed.signedPreKey.keyId).toBe(0);
      expect(parsed.pqLastResortPreKey.keyId).toBe(2 ** 31 - 1);
    });

    it.each([
      ['-1', -1],
      ['2^31', 2 ** 31],
      ['a fraction', 1.5],
      ['a string', '1'],
    ])('refuses %s, naming the key', (_, keyId) => {
      expect(
        refusedRegistrationField((b) => {
          b.signedPreKey.keyId = keyId;
        }),
      ).toBe('signedPreKey.keyId');
      expect(
        refusedRegistrationField((b) => {
          b.pqLastResortPreKey.keyId = keyId;
        }),
      ).toBe('pqLastResortPreKey.keyId');
      expect(
        refusedRegistrationField((b) => {
          b.preKeys[3].keyId = keyId;
        }),
      ).toBe('preKeys[3].keyId');
      expect(
        refusedRegistrationField((b) => {
          b.pqPreKeys[1].keyId = keyId;
        }),
      ).toBe('pqPreKeys[1].keyId');
    });
  });

  describe('key bytes', () => {
    it('names the exact list item whose public key is not base64', () => {
      const body = registrationBody();
      body.preKeys[3].publicKey = 'not base64!';
      const error = validationErrorOf(() => register(body));
      expect(error.field).toBe('preKeys[3].publicKey');
      expect(error.message).toMatch(/^preKeys\[3\]\.publicKey: /);
      expect(error.status).toBe(400);
    });

    it('refuses an EC public key that is not 33 bytes', () => {
      expect(
        refusedRegistrationField((b) => {
          b.preKeys[3].publicKey = b64(randomBytes(32));
        }),
      ).toBe('preKeys[3].publicKey');
      expect(
        refusedRegistrationField((b) => {
          b.signedPreKey.publicKey = b64(randomBytes(34));
        }),
      ).toBe('signedPreKey.publicKey');
      expect(
        refusedRegistrationField((b) => {
          b.signedPreKey.publicKey = kemKey();
        }),
      ).toBe('signedPreKey.publicKey');
    });

    it('refuses a KEM public key longer than the bound or shorter than 2 bytes', () => {
      expect(
        refusedRegistrationField((b) => {
          b.pqLastResortPreKey.publicKey = b64(randomBytes(KEM_KEY_MAX_BYTES + 1));
        }),
      ).toBe('pqLastResortPreKey.publicKey');
      expect(
        refusedRegistrationField((b) => {
          b.pqPreKeys[0].publicKey = b64(Buffer.of(0x08));
        }),
      ).toBe('pqPreKeys[0].publicKey');
    });

    it('refuses a signature that is not 64 bytes', () => {
      expect(
        refusedRegistrationField((b) => {
          b.signedPreKey.signature = b64(randomBytes(63));
        }),
      ).toBe('signedPreKey.signature');
      expect(
        refusedRegistrationField((b) => {
          b.pqPreKeys[1].signature = b64(randomBytes(65));
        }),
      ).toBe('pqPreKeys[1].signature');
      expect(
        refusedRegistrationField((b) => {
          delete b.pqLastResortPreKey.signature;
        }),
      ).toBe('pqLastResortPreKey.signature');
    });
  });

  describe('required and optional keys', () => {
    it('requires signedPreKey and pqLastResortPreKey', () => {
      expect(
        refusedRegistrationField((b) => {
          delete b.signedPreKey;
        }),
      ).toBe('signedPreKey');
      expect(
        refusedRegistrationField((b) => {
          delete b.pqLastResortPreKey;
        }),
      ).toBe('pqLastResortPreKey');
    });

    it('refuses a key that is not an object', () => {
      expect(
        refusedRegistrationField((b) => {
          b.signedPreKey = null;
        }),
      ).toBe('signedPreKey');
      expect(
        refusedRegistrationField((b) => {
          b.preKeys[2] = 'key';
        }),
      ).toBe('preKeys[2]');
    });

    it('refuses a key list that is not an array', () => {
      expect(
        refusedRegistrationField((b) => {
          b.preKeys = oneTime(1);
        }),
      ).toBe('preKeys');
    });

    it('refuses a malformed registration token and unidentified access key', () => {
      expect(
        refusedRegistrationField((b) => {
          b.registrationToken = 'has space';
        }),
      ).toBe('registrationToken');
      expect(
        refusedRegistrationField((b) => {
          b.registrationToken = 'x'.repeat(129);
        }),
      ).toBe('registrationToken');
      expect(
        refusedRegistrationField((b) => {
          b.unidentifiedAccessKey = b64(randomBytes(15));
        }),
      ).toBe('unidentifiedAccessKey');
      expect(
        refusedRegistrationField((b) => {
          b.unidentifiedAccessKey = b64(randomBytes(17));
        }),
      ).toBe('unidentifiedAccessKey');
    });
  });

  describe('key lists', () => {
    it('refuses a duplicate key id inside one list, naming the list and the id', () => {
      const body = registrationBody();
      body.preKeys[4].keyId = 2;
      const error = validationErrorOf(() => register(body));
      expect(error.field).toBe('preKeys');
      expect(error.message).toContain('key id 2');
      expect(
        refusedRegistrationField((b) => {
          b.pqPreKeys[1].keyId = 1000;
        }),
      ).toBe('pqPreKeys');
    });

    it('allows the same key id in the EC and the PQ list (separate id spaces)', () => {
      const body = registrationBody();
      body.pqPreKeys[0].keyId = 1;
      expect(register(body).pqPreKeys[0].keyId).toBe(1);
    });

    it('accepts exactly the per-upload limit and refuses one more', () => {
      const atLimit = { ...registrationBody(), preKeys: Array.from({ length: MAX_PER_UPLOAD }, (_, i) => oneTime(i)) };
      expect(register(atLimit).preKeys).toHaveLength(MAX_PER_UPLOAD);
      const over = { ...registrationBody(), preKeys: Array.from({ length: MAX_PER_UPLOAD + 1 }, (_, i) => oneTime(i)) };
      const error = validationErrorOf(() => register(over));
      expect(error.field).toBe('preKeys');
      expect(error.message).toContain(`at most ${MAX_PER_UPLOAD}`);
    });
  });
});

describe('parseLinkDeviceRequest', () => {
  const link = (body: unknown) => parseLinkDeviceRequest(body, MAX_PER_UPLOAD);

  it('accepts a well-formed body', () => {
    const parsed = link(linkBody());
    expect(parsed.code).toBe('Ab3_dE-fGh1jK2lM');
    expect(parsed.preKeys).toHaveLength(5);
  });

  it.each([
    ['missing', undefined],
    ['too short', 'abc'],
    ['with characters outside [A-Za-z0-9_-]', 'abcd efgh'],
    ['too long', 'a'.repeat(65)],
    ['a number', 12345678],
  ])('refuses a code that is %s', (_, code) => {
    expect(validationErrorOf(() => link({ ...linkBody(), code })).field).toBe('code');
  });

  it('refuses account-level fields: a linked device cannot choose the localpart or identity key', () => {
    expect(validationErrorOf(() => link({ ...linkBody(), localpart: 'alice' })).field).toBe('localpart');
    expect(validationErrorOf(() => link({ ...linkBody(), identityKey: ecKey() })).field).toBe('identityKey');
  });

  it('checks the device keys like registration does', () => {
    const body = linkBody();
    body.pqPreKeys[1].keyId = 2 ** 31;
    expect(validationErrorOf(() => link(body)).field).toBe('pqPreKeys[1].keyId');
    expect(validationErrorOf(() => link({ ...linkBody(), registrationId: 0 })).field).toBe('registrationId');
    expect(validationErrorOf(() => link({ ...linkBody(), signedPreKey: undefined })).field).toBe('signedPreKey');
  });

  it('refuses a body that is not an object', () => {
    expect(validationErrorOf(() => link([linkBody()])).field).toBe('body');
  });
});

describe('parseUploadKeysRequest', () => {
  const upload = (body: unknown) => parseUploadKeysRequest(body, MAX_PER_UPLOAD);

  it('accepts any one kind of key alone and leaves the others undefined', () => {
    expect(upload({ preKeys: [oneTime(7)] })).toEqual({
      signedPreKey: undefined,
      pqLastResortPreKey: undefined,
      preKeys: [{ keyId: 7, publicKey: expect.any(Buffer) }],
      pqPreKeys: undefined,
    });
    expect(upload({ signedPreKey: signedEc(2) }).signedPreKey?.keyId).toBe(2);
    expect(upload({ pqLastResortPreKey: signedKem(3) }).pqLastResortPreKey?.keyId).toBe(3);
    expect(upload({ pqPreKeys: [signedKem(4)] }).pqPreKeys?.[0].keyId).toBe(4);
  });

  it('refuses a body carrying no key at all, also when every field is null', () => {
    expect(validationErrorOf(() => upload({})).field).toBe('body');
    expect(validationErrorOf(() => upload({ preKeys: null, signedPreKey: null })).field).toBe('body');
  });

  it('refuses an unknown field, e.g. an attempt to change the identity key', () => {
    expect(validationErrorOf(() => upload({ preKeys: [oneTime(1)], identityKey: ecKey() })).field).toBe('identityKey');
  });

  it('names the exact bad item and property', () => {
    const preKeys = [oneTime(1), oneTime(2), oneTime(3), { keyId: 4, publicKey: 'AAAA' }];
    const error = validationErrorOf(() => upload({ preKeys }));
    expect(error.field).toBe('preKeys[3].publicKey');
    expect(error.message).toContain('got 3');
  });

  it('refuses duplicate key ids and lists over the limit', () => {
    expect(validationErrorOf(() => upload({ pqPreKeys: [signedKem(5), signedKem(5)] })).field).toBe('pqPreKeys');
    const tooMany = Array.from({ length: MAX_PER_UPLOAD + 1 }, (_, i) => signedKem(i));
    expect(validationErrorOf(() => upload({ pqPreKeys: tooMany })).field).toBe('pqPreKeys');
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'keys', 1]) expect(validationErrorOf(() => upload(body)).field).toBe('body');
  });
});

describe('parseDeviceIdParam (DELETE /v1/devices/{id}: 1..127, no *)', () => {
  it('accepts 1 and 127', () => {
    expect(parseDeviceIdParam('1')).toBe(1);
    expect(parseDeviceIdParam('127')).toBe(127);
  });

  it.each(['0', '128', 'abc', '*', '', '-1', '1.0', '1e1', ' 2'])('refuses %p', (value) => {
    const error = validationErrorOf(() => parseDeviceIdParam(value));
    expect(error.field).toBe('deviceId');
    expect(error.message).toContain('1..127');
  });
});
