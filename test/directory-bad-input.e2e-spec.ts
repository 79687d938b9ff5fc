import { randomBytes } from 'node:crypto';
import { DeviceKeyMaterial } from '../libs/client/src';
import { TestAccount, registerAccount, registrationBody, uniqueLocalpart } from './support/accounts';
import { RunningDirectory, startDirectory } from './support/directory-harness';
import { JsonAnswer, call } from './support/http';

/**
 * DESIGN §7: every bad input to the prekey directory gets a clear 4xx with a JSON `{error, message}`
 * body — never a 5xx — whose message leaks no secret, and nothing already stored is lost.
 *
 * One account ("victim", two devices) is registered first; every malformed request that needs a
 * token uses the victim's, so a bad request that were wrongly half-applied would show up in the
 * final check of its devices and key counts.
 */

type Body = unknown | (() => unknown);
type Auth = 'victim' | 'none' | { header: string };

interface BadRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** `{victim}` is replaced by the victim's address. */
  path: string;
  auth: Auth;
  body?: Body;
  rawBody?: string | (() => string);
  contentType?: string;
  headers?: Record<string, string>;
  status: number | number[];
  error?: string;
  /** A text the message must contain, usually the exact field at fault. */
  mentions?: string;
}

interface Fixture {
  dir: RunningDirectory;
  victim: TestAccount;
  victimDevice2Token: string;
}
let fx: Fixture;

// ---------- bodies ----------

const b64 = (bytes: Buffer) => bytes.toString('base64');
const OVERSIZED = () => JSON.stringify({ localpart: 'a', padding: 'x'.repeat(1024 * 1024 + 16) });

/** A well-formed registration with real libsignal keys, changed by `mutate`. */
const registration = (mutate: (body: any) => void) => () => {
  const body: any = registrationBody(DeviceKeyMaterial.generate({ reuseKemKey: true }), uniqueLocalpart('bad'));
  mutate(body);
  return body;
};

/** A link body signed by the victim's identity key, with a well-formed but unknown code unless changed by `mutate`. */
const link = (mutate: (body: any) => void) => () => {
  const identity = fx.victim.identity;
  const body: any = {
    code: 'AAAAAAAAAAAAAAAAAAAAAAAA',
    registrationId: 77,
    signedPreKey: identity.signedPreKey(5),
    pqLastResortPreKey: identity.pqPreKey(5999),
    preKeys: [identity.preKey(601), identity.preKey(602)],
    pqPreKeys: [identity.pqPreKey(6001)],
  };
  mutate(body);
  return body;
};

/** An upload signed by the victim's identity key (so only the deliberate fault is wrong), changed by `mutate`. */
const upload = (mutate: (body: any) => void) => () => {
  const identity = fx.victim.identity;
  const body: any = {
    signedPreKey: identity.signedPreKey(77),
    preKeys: [identity.preKey(701), identity.preKey(702), identity.preKey(703), identity.preKey(704)],
    pqPreKeys: [identity.pqPreKey(7001), identity.pqPreKey(7002)],
  };
  mutate(body);
  return body;
};

/** The serialised key with its type byte replaced. */
const retype = (base64Key: string, typeByte: number) => {
  const bytes = Buffer.from(base64Key, 'base64');
  bytes[0] = typeByte;
  return b64(bytes);
};
const resize = (base64Key: string, length: number) =>
  b64(Buffer.concat([Buffer.from(base64Key, 'base64'), Buffer.alloc(64)]).subarray(0, length));

// ---------- the table ----------

const BODY_ENDPOINTS: { label: string; method: 'POST' | 'PUT'; path: string; auth: Auth }[] = [
  { label: 'POST /v1/accounts', method: 'POST', path: '/v1/accounts', auth: 'none' },
  { label: 'POST /v1/devices', method: 'POST', path: '/v1/devices', auth: 'none' },
  { label: 'PUT /v1/keys', method: 'PUT', path: '/v1/keys', auth: 'victim' },
];

const AUTH_ENDPOINTS: { label: string; method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: Body }[] = [
  { label: 'POST /v1/devices/link-codes', method: 'POST', path: '/v1/devices/link-codes' },
  { label: 'GET /v1/devices', method: 'GET', path: '/v1/devices' },
  { label: 'DELETE /v1/devices/2', method: 'DELETE', path: '/v1/devices/2' },
  { label: 'PUT /v1/keys', method: 'PUT', path: '/v1/keys', body: upload(() => undefined) },
  { label: 'GET /v1/keys', method: 'GET', path: '/v1/keys' },
  { label: 'GET /v1/keys/{victim}/*', method: 'GET', path: '/v1/keys/{victim}/*' },
];

const BAD_TOKENS: { label: string; header: string }[] = [
  { label: 'an unknown bearer token', header: `Bearer ${b64(randomBytes(32))}` },
  { label: 'a bearer token with characters outside base64', header: 'Bearer not*a~token' },
  { label: 'an empty bearer token', header: 'Bearer ' },
  { label: 'a bearer token of 200 characters', header: `Bearer ${'A'.repeat(200)}` },
  { label: 'Basic credentials', header: `Basic ${b64(Buffer.from('alice:hunter2'))}` },
  { label: 'a bare token without a scheme', header: b64(randomBytes(32)) },
];

const CASES: BadRequest[] = [
  // --- bodies that are not a JSON object, in any body-taking endpoint ---
  ...BODY_ENDPOINTS.flatMap(({ label, method, path, auth }): BadRequest[] => [
    { name: `${label}: invalid JSON`, method, path, auth, rawBody: '{"localpart": ', status: 400 },
    { name: `${label}: JSON with trailing garbage`, method, path, auth, rawBody: '{}x', status: 400 },
    { name: `${label}: an empty body declared as JSON`, method, path, auth, rawBody: '', status: 400 },
    { name: `${label}: a JSON array`, method, path, auth, rawBody: '[]', status: 400, error: 'invalid_request', mentions: 'body' },
    { name: `${label}: a JSON string`, method, path, auth, rawBody: '"alice"', status: 400, error: 'invalid_request', mentions: 'body' },
    { name: `${label}: a JSON number`, method, path, auth, rawBody: '42', status: 400, error: 'invalid_request', mentions: 'body' },
    { name: `${label}: JSON null`, method, path, auth, rawBody: 'null', status: 400, mentions: 'body' },
    { name: `${label}: JSON true`, method, path, auth, rawBody: 'true', status: 400, mentions: 'body' },
    { name: `${label}: a __proto__ key`, method, path, auth, rawBody: '{"__proto__": {"admin": true}}', status: 400 },
    { name: `${label}: a deeply nested array`, method, path, auth, rawBody: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, status: 400 },
    { name: `${label}: text/plain`, method, path, auth, rawBody: '{}', contentType: 'text/plain', status: 415 },
    { name: `${label}: application/xml`, method, path, auth, rawBody: '<a/>', contentType: 'application/xml', status: 415 },
    {
      name: `${label}: a form body`,
      method,
      path,
      auth,
      rawBody: 'localpart=alice',
      contentType: 'application/x-www-form-urlencoded',
      status: [400, 415],
    },
    { name: `${label}: a body over 1 MiB`, method, path, auth, rawBody: OVERSIZED, status: 413 },
    {
      name: `${label}: gzip-encoded garbage`,
      method,
      path,
      auth,
      rawBody: 'not gzip',
      headers: { 'content-encoding': 'gzip' },
      status: [400, 415],
    },
  ]),
  {
    name: 'POST /v1/devices/link-codes: invalid JSON',
    method: 'POST',
    path: '/v1/devices/link-codes',
    auth: 'victim',
    rawBody: '{',
    status: 400,
  },
  {
    name: 'POST /v1/devices/link-codes: text/plain',
    method: 'POST',
    path: '/v1/devices/link-codes',
    auth: 'victim',
    rawBody: 'x',
    contentType: 'text/plain',
    status: 415,
  },
  {
    name: 'POST /v1/devices/link-codes: a body over 1 MiB',
    method: 'POST',
    path: '/v1/devices/link-codes',
    auth: 'victim',
    rawBody: OVERSIZED,
    status: 413,
  },

  // --- POST /v1/accounts: fields ---
  ...((): BadRequest[] => {
    const reg = (name: string, mutate: (b: any) => void, mentions: string, status = 400): BadRequest => ({
      name: `POST /v1/accounts: ${name}`,
      method: 'POST',
      path: '/v1/accounts',
      auth: 'none',
      body: registration(mutate),
      status,
      mentions,
    });
    return [
      reg(
        'an empty object',
        (b) => {
          for (const k of Object.keys(b)) delete b[k];
        },
        'localpart',
      ),
      reg(
        'no localpart',
        (b) => {
          delete b.localpart;
        },
        'localpart',
      ),
      reg(
        'no identityKey',
        (b) => {
          delete b.identityKey;
        },
        'identityKey',
      ),
      reg(
        'no registrationId',
        (b) => {
          delete b.registrationId;
        },
        'registrationId',
      ),
      reg(
        'no signedPreKey',
        (b) => {
          delete b.signedPreKey;
        },
        'signedPreKey',
      ),
      reg(
        'no pqLastResortPreKey',
        (b) => {
          delete b.pqLastResortPreKey;
        },
        'pqLastResortPreKey',
      ),
      reg(
        'an unknown field',
        (b) => {
          b.deviceId = 5;
        },
        'deviceId',
      ),
      reg(
        'localpart as a number',
        (b) => {
          b.localpart = 42;
        },
        'localpart',
      ),
      reg(
        'localpart with upper case',
        (b) => {
          b.localpart = 'Alice';
        },
        'localpart',
      ),
      reg(
        'localpart of 65 characters',
        (b) => {
          b.localpart = 'a'.repeat(65);
        },
        'localpart',
      ),
      reg(
        'localpart with @',
        (b) => {
          b.localpart = 'alice@alpha.test';
        },
        'localpart',
      ),
      reg(
        'registrationId as a string',
        (b) => {
          b.registrationId = '1234';
        },
        'registrationId',
      ),
      reg(
        'registrationId 0',
        (b) => {
          b.registrationId = 0;
        },
        'registrationId',
      ),
      reg(
        'registrationId 16384',
        (b) => {
          b.registrationId = 16384;
        },
        'registrationId',
      ),
      reg(
        'registrationId 1e400 (Infinity)',
        (b) => {
          b.registrationId = '__INF__';
        },
        'registrationId',
      ),
      reg(
        'identityKey of 31 bytes',
        (b) => {
          b.identityKey = b64(randomBytes(31));
        },
        'identityKey',
      ),
      reg(
        'identityKey of 33 bytes with type byte 0x06',
        (b) => {
          b.identityKey = retype(b.identityKey, 0x06);
        },
        'identityKey',
      ),
      reg(
        'identityKey in URL-safe base64',
        (b) => {
          b.identityKey = b64(Buffer.alloc(33, 0xff)).replace(/\//g, '_');
        },
        'identityKey',
      ),
      reg(
        'identityKey without padding',
        (b) => {
          b.identityKey = b64(randomBytes(32)).replace(/=+$/, '');
        },
        'identityKey',
      ),
      reg(
        'identityKey that is not base64',
        (b) => {
          b.identityKey = '%%%%';
        },
        'identityKey',
      ),
      reg(
        'signedPreKey as a string',
        (b) => {
          b.signedPreKey = 'key';
        },
        'signedPreKey',
      ),
      reg(
        'signedPreKey.keyId -1',
        (b) => {
          b.signedPreKey.keyId = -1;
        },
        'signedPreKey.keyId',
      ),
      reg(
        'signedPreKey.keyId 2^31',
        (b) => {
          b.signedPreKey.keyId = 2 ** 31;
        },
        'signedPreKey.keyId',
      ),
      reg(
        'signedPreKey.publicKey of 32 bytes',
        (b) => {
          b.signedPreKey.publicKey = resize(b.signedPreKey.publicKey, 32);
        },
        'signedPreKey.publicKey',
      ),
      reg(
        'signedPreKey.publicKey not starting with 0x05',
        (b) => {
          b.signedPreKey.publicKey = retype(b.signedPreKey.publicKey, 0x06);
        },
        'signedPreKey.publicKey',
      ),
      reg(
        'signedPreKey.signature of 63 bytes',
        (b) => {
          b.signedPreKey.signature = resize(b.signedPreKey.signature, 63);
        },
        'signedPreKey.signature',
      ),
      reg(
        'signedPreKey signed by another identity',
        (b) => {
          b.signedPreKey = DeviceKeyMaterial.generate().signedPreKey(1);
        },
        'signedPreKey',
        422,
      ),
      reg(
        'pqLastResortPreKey with unknown KEM type byte 0x07',
        (b) => {
          b.pqLastResortPreKey.publicKey = retype(b.pqLastResortPreKey.publicKey, 0x07);
        },
        'pqLastResortPreKey.publicKey',
      ),
      reg(
        'pqLastResortPreKey of 1568 bytes (Kyber1024 needs 1569)',
        (b) => {
          b.pqLastResortPreKey.publicKey = resize(b.pqLastResortPreKey.publicKey, 1568);
        },
        'pqLastResortPreKey.publicKey',
      ),
      reg(
        'pqLastResortPreKey over 2048 bytes',
        (b) => {
          b.pqLastResortPreKey.publicKey = b64(randomBytes(2049));
        },
        'pqLastResortPreKey.publicKey',
      ),
      reg(
        'preKeys as an object',
        (b) => {
          b.preKeys = b.preKeys[0];
        },
        'preKeys',
      ),
      reg(
        'preKeys[3].publicKey not base64',
        (b) => {
          b.preKeys[3].publicKey = 'not base64';
        },
        'preKeys[3].publicKey',
      ),
      reg(
        'preKeys[3].publicKey not starting with 0x05',
        (b) => {
          b.preKeys[3].publicKey = retype(b.preKeys[3].publicKey, 0x00);
        },
        'preKeys[3].publicKey',
      ),
      reg(
        'preKeys[2].keyId 2^31',
        (b) => {
          b.preKeys[2].keyId = 2 ** 31;
        },
        'preKeys[2].keyId',
      ),
      reg(
        'preKeys with a duplicate key id',
        (b) => {
          b.preKeys[4].keyId = b.preKeys[0].keyId;
        },
        'preKeys',
      ),
      reg(
        'preKeys with 101 items (limit 100)',
        (b) => {
          const one = b.preKeys[0];
          b.preKeys = Array.from({ length: 101 }, (_, i) => ({ ...one, keyId: i }));
        },
        'preKeys',
      ),
      reg(
        'pqPreKeys[1] with unknown KEM type byte 0x07',
        (b) => {
          b.pqPreKeys[1].publicKey = retype(b.pqPreKeys[1].publicKey, 0x07);
        },
        'pqPreKeys[1].publicKey',
      ),
      reg(
        'pqPreKeys[1].keyId -1',
        (b) => {
          b.pqPreKeys[1].keyId = -1;
        },
        'pqPreKeys[1].keyId',
      ),
      reg(
        'unidentifiedAccessKey of 15 bytes',
        (b) => {
          b.unidentifiedAccessKey = b64(randomBytes(15));
        },
        'unidentifiedAccessKey',
      ),
      reg(
        'a malformed registrationToken',
        (b) => {
          b.registrationToken = 'has spaces in it';
        },
        'registrationToken',
      ),
    ];
  })(),

  // --- POST /v1/devices: fields ---
  ...((): BadRequest[] => {
    const lnk = (name: string, mutate: (b: any) => void, mentions: string, status = 400, error?: string): BadRequest => ({
      name: `POST /v1/devices: ${name}`,
      method: 'POST',
      path: '/v1/devices',
      auth: 'none',
      body: link(mutate),
      status,
      mentions,
      error,
    });
    return [
      lnk(
        'no code',
        (b) => {
          delete b.code;
        },
        'code',
      ),
      lnk(
        'a code of 3 characters',
        (b) => {
          b.code = 'abc';
        },
        'code',
      ),
      lnk(
        'a code as a number',
        (b) => {
          b.code = 12345678;
        },
        'code',
      ),
      lnk('an unknown code', () => undefined, 'link code', 403, 'invalid_link_code'),
      lnk(
        'a localpart field',
        (b) => {
          b.localpart = 'mallory';
        },
        'localpart',
      ),
      lnk(
        'no signedPreKey',
        (b) => {
          delete b.signedPreKey;
        },
        'signedPreKey',
      ),
      lnk(
        'registrationId 16384',
        (b) => {
          b.registrationId = 16384;
        },
        'registrationId',
      ),
      lnk(
        'pqPreKeys[0].keyId 2^31',
        (b) => {
          b.pqPreKeys[0].keyId = 2 ** 31;
        },
        'pqPreKeys[0].keyId',
      ),
      lnk(
        'preKeys[1].publicKey of 34 bytes',
        (b) => {
          b.preKeys[1].publicKey = resize(b.preKeys[1].publicKey, 34);
        },
        'preKeys[1].publicKey',
      ),
    ];
  })(),

  // --- PUT /v1/keys: fields (the victim's stored keys must survive all of these) ---
  ...((): BadRequest[] => {
    const put = (name: string, mutate: (b: any) => void, mentions: string, status = 400): BadRequest => ({
      name: `PUT /v1/keys: ${name}`,
      method: 'PUT',
      path: '/v1/keys',
      auth: 'victim',
      body: upload(mutate),
      status,
      mentions,
    });
    return [
      put(
        'an empty object',
        (b) => {
          for (const k of Object.keys(b)) delete b[k];
        },
        'body',
      ),
      put(
        'only null fields',
        (b) => {
          for (const k of Object.keys(b)) b[k] = null;
        },
        'body',
      ),
      put(
        'an identityKey field',
        (b) => {
          b.identityKey = fx.victim.identity.identityKeyBase64;
        },
        'identityKey',
      ),
      put(
        'preKeys[3].publicKey not base64 after three good keys',
        (b) => {
          b.preKeys[3].publicKey = '****';
        },
        'preKeys[3].publicKey',
      ),
      put(
        'preKeys[3].publicKey not starting with 0x05 after three good keys',
        (b) => {
          b.preKeys[3].publicKey = retype(b.preKeys[3].publicKey, 0x06);
        },
        'preKeys[3].publicKey',
      ),
      put(
        'preKeys[0].keyId -1',
        (b) => {
          b.preKeys[0].keyId = -1;
        },
        'preKeys[0].keyId',
      ),
      put(
        'preKeys[0].keyId 2^31',
        (b) => {
          b.preKeys[0].keyId = 2 ** 31;
        },
        'preKeys[0].keyId',
      ),
      put(
        'preKeys[1].keyId as a string',
        (b) => {
          b.preKeys[1].keyId = '702';
        },
        'preKeys[1].keyId',
      ),
      put(
        'a duplicate key id in pqPreKeys',
        (b) => {
          b.pqPreKeys[1].keyId = b.pqPreKeys[0].keyId;
        },
        'pqPreKeys',
      ),
      put(
        'pqPreKeys[1] signed by another identity',
        (b) => {
          b.pqPreKeys[1] = DeviceKeyMaterial.generate().pqPreKey(7002);
        },
        'pqPreKeys[1]',
        422,
      ),
      put(
        'signedPreKey with a flipped signature bit',
        (b) => {
          const sig = Buffer.from(b.signedPreKey.signature, 'base64');
          sig[0] ^= 0x01;
          b.signedPreKey.signature = b64(sig);
        },
        'signedPreKey',
        422,
      ),
      put(
        'pqLastResortPreKey with unknown KEM type byte 0x07',
        (b) => {
          b.pqLastResortPreKey = fx.victim.identity.pqPreKey(7999);
          b.pqLastResortPreKey.publicKey = retype(b.pqLastResortPreKey.publicKey, 0x07);
        },
        'pqLastResortPreKey.publicKey',
      ),
      put(
        'pqPreKeys with 101 items (limit 100)',
        (b) => {
          const one = b.pqPreKeys[0];
          b.pqPreKeys = Array.from({ length: 101 }, (_, i) => ({ ...one, keyId: i }));
        },
        'pqPreKeys',
      ),
    ];
  })(),

  // --- DELETE /v1/devices/{id} ---
  { name: 'DELETE /v1/devices/0', method: 'DELETE', path: '/v1/devices/0', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'DELETE /v1/devices/128', method: 'DELETE', path: '/v1/devices/128', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'DELETE /v1/devices/abc', method: 'DELETE', path: '/v1/devices/abc', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'DELETE /v1/devices/-1', method: 'DELETE', path: '/v1/devices/-1', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'DELETE /v1/devices/*', method: 'DELETE', path: '/v1/devices/*', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'DELETE /v1/devices/1 (the primary device)', method: 'DELETE', path: '/v1/devices/1', auth: 'victim', status: 403 },
  { name: 'DELETE /v1/devices/99 (no such device)', method: 'DELETE', path: '/v1/devices/99', auth: 'victim', status: 404 },

  // --- GET /v1/keys/{address}/{deviceId} ---
  {
    name: 'GET /v1/keys: address without @',
    method: 'GET',
    path: '/v1/keys/alice.alpha.test/1',
    auth: 'victim',
    status: 400,
    mentions: 'address',
  },
  {
    name: 'GET /v1/keys: address with upper case',
    method: 'GET',
    path: '/v1/keys/Alice@alpha.test/1',
    auth: 'victim',
    status: 400,
    mentions: 'address',
  },
  {
    name: 'GET /v1/keys: address with an empty localpart',
    method: 'GET',
    path: '/v1/keys/@alpha.test/1',
    auth: 'victim',
    status: 400,
    mentions: 'address',
  },
  {
    name: 'GET /v1/keys: address with a bad server name',
    method: 'GET',
    path: '/v1/keys/alice@alpha_test/1',
    auth: 'victim',
    status: 400,
    mentions: 'address',
  },
  {
    name: 'GET /v1/keys: address with an encoded slash',
    method: 'GET',
    path: '/v1/keys/a%2Fb@alpha.test/1',
    auth: 'victim',
    status: 400,
    mentions: 'address',
  },
  {
    name: 'GET /v1/keys: address with invalid UTF-8 percent-encoding',
    method: 'GET',
    path: '/v1/keys/al%C3%28ce@alpha.test/1',
    auth: 'victim',
    status: 400,
  },
  {
    name: 'GET /v1/keys: address with a broken percent escape',
    method: 'GET',
    path: '/v1/keys/al%ZZce@alpha.test/1',
    auth: 'victim',
    status: 400,
  },
  {
    name: 'GET /v1/keys: an address of 20000 characters',
    method: 'GET',
    path: `/v1/keys/${'a'.repeat(20_000)}@alpha.test/1`,
    auth: 'victim',
    status: [414, 431],
  },
  { name: 'GET /v1/keys: device 0', method: 'GET', path: '/v1/keys/{victim}/0', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'GET /v1/keys: device 128', method: 'GET', path: '/v1/keys/{victim}/128', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'GET /v1/keys: device abc', method: 'GET', path: '/v1/keys/{victim}/abc', auth: 'victim', status: 400, mentions: 'deviceId' },
  { name: 'GET /v1/keys: unknown account', method: 'GET', path: '/v1/keys/nobody-0000000000@alpha.test/1', auth: 'victim', status: 404 },
  { name: 'GET /v1/keys: unknown device of a known account', method: 'GET', path: '/v1/keys/{victim}/99', auth: 'victim', status: 404 },

  // --- missing, malformed and unknown bearer tokens, on every authenticated endpoint ---
  ...AUTH_ENDPOINTS.flatMap(({ label, method, path, body }): BadRequest[] => [
    { name: `${label}: no Authorization header`, method, path, auth: 'none', body, status: 401, error: 'unauthorized' },
    ...BAD_TOKENS.map(({ label: tokenLabel, header }): BadRequest => ({
      name: `${label}: ${tokenLabel}`,
      method,
      path,
      auth: { header },
      body,
      status: 401,
      error: 'unauthorized',
    })),
  ]),
  {
    name: 'GET /v1/keys: an Authorization header of 20000 characters',
    method: 'GET',
    path: '/v1/keys',
    auth: { header: `Bearer ${'A'.repeat(20_000)}` },
    status: 431,
  },

  // --- unknown routes and methods ---
  { name: 'unknown route GET /v1/nothing', method: 'GET', path: '/v1/nothing', auth: 'victim', status: 404, error: 'not_found' },
  { name: 'unknown route GET /v2/keys', method: 'GET', path: '/v2/keys', auth: 'victim', status: 404 },
  { name: 'unknown route GET /v1/keys/{victim} (no device)', method: 'GET', path: '/v1/keys/{victim}', auth: 'victim', status: 404 },
  { name: 'unknown method PATCH /v1/keys', method: 'PATCH', path: '/v1/keys', auth: 'victim', body: {}, status: [404, 405] },
  { name: 'unknown method DELETE /v1/accounts', method: 'DELETE', path: '/v1/accounts', auth: 'none', status: [404, 405] },
];

// ---------- running one case ----------

function requestOf(c: BadRequest): { url: string; options: Parameters<typeof call>[2]; secrets: string[] } {
  const headers: Record<string, string> = { ...c.headers };
  if (c.auth === 'victim') headers.authorization = `Bearer ${fx.victim.token}`;
  else if (c.auth !== 'none') headers.authorization = c.auth.header;
  if (c.contentType) headers['content-type'] = c.contentType;
  const options: Parameters<typeof call>[2] = { headers };
  if (c.rawBody !== undefined) options.rawBody = typeof c.rawBody === 'function' ? c.rawBody() : c.rawBody;
  else if (c.body !== undefined) {
    // JSON cannot carry Infinity; 1e400 parses to it on the server.
    options.rawBody = JSON.stringify(typeof c.body === 'function' ? c.body() : c.body).replace('"__INF__"', '1e400');
  }
  const secrets = [fx.victim.token, fx.victimDevice2Token];
  if (c.auth !== 'victim' && c.auth !== 'none') secrets.push(c.auth.header.replace(/^\S+ /, ''));
  return { url: `${fx.dir.url}${c.path.replace('{victim}', fx.victim.address)}`, options, secrets: secrets.filter((s) => s.length >= 8) };
}

function expectCleanError(answer: JsonAnswer, c: BadRequest, secrets: string[]): void {
  const summary = `${c.method} ${c.path} → ${answer.status} ${JSON.stringify(answer.body)?.slice(0, 300)}`;
  const statuses = Array.isArray(c.status) ? c.status : [c.status];
  if (!statuses.includes(answer.status)) throw new Error(`expected ${statuses.join(' or ')}, got ${summary}`);
  expect(answer.status).toBeLessThan(500);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body).toEqual(expect.objectContaining({ error: expect.any(String), message: expect.any(String) }));
  if (c.error) expect(answer.body.error).toBe(c.error);
  if (c.mentions) expect(answer.body.message).toContain(c.mentions);
  const text = JSON.stringify(answer.body);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

// ---------- the suite ----------

describe('prekey directory: every bad input is a clean 4xx and loses nothing', () => {
  let snapshot: { devices: unknown; device1Counts: unknown; device2Counts: unknown };

  const countsOf = async (token: string) => {
    const res = await call('GET', `${fx.dir.url}/v1/keys`, { token });
    expect(res.status).toBe(200);
    return res.body;
  };
  const devicesOf = async (token: string) => {
    const res = await call('GET', `${fx.dir.url}/v1/devices`, { token });
    expect(res.status).toBe(200);
    return res.body.devices.map((d: { deviceId: number; registrationId: number }) => ({
      deviceId: d.deviceId,
      registrationId: d.registrationId,
    }));
  };

  beforeAll(async () => {
    const dir = await startDirectory();
    const victim = await registerAccount(dir.url, { preKeys: 7, pqPreKeys: 6, stem: 'victim' });
    const code = await call('POST', `${dir.url}/v1/devices/link-codes`, { token: victim.token });
    expect(code.status).toBe(201);
    const linked = await call('POST', `${dir.url}/v1/devices`, {
      body: {
        code: code.body.code,
        registrationId: 4321,
        signedPreKey: victim.identity.signedPreKey(2),
        pqLastResortPreKey: victim.identity.pqPreKey(2999),
        preKeys: [victim.identity.preKey(501), victim.identity.preKey(502), victim.identity.preKey(503)],
        pqPreKeys: [victim.identity.pqPreKey(3001), victim.identity.pqPreKey(3002)],
      },
    });
    expect(linked.status).toBe(201);
    fx = { dir, victim, victimDevice2Token: linked.body.token };
    snapshot = {
      devices: await devicesOf(victim.token),
      device1Counts: await countsOf(victim.token),
      device2Counts: await countsOf(linked.body.token),
    };
    expect(snapshot.device1Counts).toEqual({ count: 7, pqCount: 6 });
    expect(snapshot.device2Counts).toEqual({ count: 3, pqCount: 2 });
  });
  afterAll(async () => {
    await fx?.dir.close();
  });

  it.each(CASES.map((c) => [c.name, c]))('%s', async (_, c) => {
    const { url, options, secrets } = requestOf(c);
    const answer = await call(c.method, url, options);
    expectCleanError(answer, c, secrets);
  });

  it('refuses a validly signed KEM last-resort key of type 0x0A (ML-KEM-1024, not accepted by libsignal 0.103) with 400', async () => {
    const identity = DeviceKeyMaterial.generate();
    const body = registrationBody(identity, uniqueLocalpart('mlkem'));
    const kem = Buffer.from(body.pqLastResortPreKey.publicKey, 'base64');
    kem[0] = 0x0a;
    body.pqLastResortPreKey = { keyId: body.pqLastResortPreKey.keyId, publicKey: b64(kem), signature: b64(identity.sign(kem)) };
    const res = await call('POST', `${fx.dir.url}/v1/accounts`, { body });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', message: expect.stringContaining('pqLastResortPreKey.publicKey') });
    // the localpart is not taken by the refused attempt
    const retry = await call('POST', `${fx.dir.url}/v1/accounts`, { body: registrationBody(identity, body.localpart) });
    expect(retry.status).toBe(201);
  });

  it('keeps a link code usable after a link attempt refused for a bad key type', async () => {
    const owner = await registerAccount(fx.dir.url, { stem: 'linker' });
    const code = (await call('POST', `${fx.dir.url}/v1/devices/link-codes`, { token: owner.token })).body.code as string;
    const body = {
      code,
      registrationId: 99,
      signedPreKey: owner.identity.signedPreKey(3),
      pqLastResortPreKey: owner.identity.pqPreKey(3999),
      preKeys: [owner.identity.preKey(1)],
    };
    const bad = await call('POST', `${fx.dir.url}/v1/devices`, {
      body: { ...body, preKeys: [{ keyId: 1, publicKey: retype(body.preKeys[0].publicKey, 0x06) }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('preKeys[0].publicKey');
    expect(JSON.stringify(bad.body)).not.toContain(code);
    const good = await call('POST', `${fx.dir.url}/v1/devices`, { body });
    expect(good.status).toBe(201);
    expect(good.body.deviceId).toBe(2);
  });

  it.each([
    ['invalid JSON', 'POST', '/v1/accounts', { rawBody: '{' }, 400, 'invalid_json'],
    ['a body over 1 MiB', 'POST', '/v1/accounts', { rawBody: OVERSIZED() }, 413, 'payload_too_large'],
    [
      'application/xml',
      'POST',
      '/v1/accounts',
      { rawBody: '<a/>', headers: { 'content-type': 'application/xml' } },
      415,
      'unsupported_media_type',
    ],
    ['a broken percent escape in the path', 'GET', '/v1/keys/al%ZZce@alpha.test/1', {}, 400, expect.stringMatching(/^[a-z_]+$/)],
    [
      'a path parameter over the router limit',
      'GET',
      `/v1/keys/${'a'.repeat(64)}@${'b'.repeat(120)}.test/1`,
      {},
      expect.any(Number),
      expect.stringMatching(/^[a-z_]+$/),
    ],
  ])(
    'answers %s, refused by Fastify itself, with the API error body {error: snake_case code, message} and nothing else',
    async (_, method, path, options, status, error) => {
      const res = await call(method, `${fx.dir.url}${path}`, { token: fx.victim.token, ...options });
      expect(res.status).toEqual(status);
      expect(res.status).toBeLessThan(500);
      expect(res.body).toEqual({ error, message: expect.any(String) });
    },
  );

  it('accepts the longest valid addresses in the claim path (64-character localpart, long server name) instead of refusing the URL', async () => {
    const serverName = `${'s'.repeat(60)}.example`;
    const longDir = await startDirectory({ SERVER_NAME: serverName });
    try {
      const localpart = uniqueLocalpart('x'.repeat(53));
      expect(localpart).toHaveLength(64);
      const owner = await call('POST', `${longDir.url}/v1/accounts`, {
        body: registrationBody(DeviceKeyMaterial.generate({ reuseKemKey: true }), localpart),
      });
      expect(owner.status).toBe(201);
      const requester = await registerAccount(longDir.url, { stem: 'asker' });
      const address = `${localpart}@${serverName}`;
      const res = await call('GET', `${longDir.url}/v1/keys/${address}/1`, { token: requester.token });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: expect.objectContaining({ address }) });
    } finally {
      await longDir.close();
    }
  });

  it('afterwards still authenticates both victim devices, with the same devices and unchanged key counts', async () => {
    expect(await devicesOf(fx.victim.token)).toEqual(snapshot.devices);
    expect(await devicesOf(fx.victimDevice2Token)).toEqual(snapshot.devices);
    expect(await countsOf(fx.victim.token)).toEqual(snapshot.device1Counts);
    expect(await countsOf(fx.victimDevice2Token)).toEqual(snapshot.device2Counts);
  });

  it('afterwards still hands out the victim bundle exactly as registered', async () => {
    const requester = await registerAccount(fx.dir.url, { stem: 'requester' });
    const res = await call('GET', `${fx.dir.url}/v1/keys/${fx.victim.address}/*`, { token: requester.token });
    expect(res.status).toBe(200);
    expect(res.body.identityKey).toBe(fx.victim.identity.identityKeyBase64);
    expect(res.body.devices.map((d: any) => [d.deviceId, d.signedPreKey.keyId, d.preKey?.keyId, d.pqPreKey.keyId])).toEqual([
      [1, 1, 1, 1000],
      [2, 2, 501, 3001],
    ]);
  });
});
