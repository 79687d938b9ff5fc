import fc from 'fast-check';

/**
 * fast-check arbitraries for bad input: junk text of every kind, path parameters that are not a
 * valid address / device id / server name, odd headers and content types, and request bodies
 * that are not what a route takes (arbitrary JSON, wrong types, truncated or oversized text, and a
 * well-formed template with one field replaced by junk).
 */

/** Printable ASCII, what an HTTP header value may hold. */
export const headerText = (maxLength = 120): fc.Arbitrary<string> =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

const HUGE_LENGTHS = [256, 4_096, 70_000];

/** Junk strings: empty, unicode, control characters, huge, and look-alikes of real values. */
export const junkString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '%',
      '%ZZ',
      '../..',
      '*',
      '-1',
      '0',
      '1e309',
      'NaN',
      'null',
      'true',
      '{}',
      '[]',
      '==',
      'AAAA=',
      '!!!!',
      '\ud800',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_LENGTHS).chain((n) => fc.constantFrom('a', 'A', '9', '/').map((c) => c.repeat(n))) },
);

/** Base64 that is not standard padded base64 of a sensible length. */
export const badBase64: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '=', 'A', 'AB=', 'A===', '####', 'YWJj\n', 'YW Jj', '-_-_', 'AAAA'.repeat(20_000)),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url')),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64').replace(/=+$/, '')),
  junkString,
);

/** Values of every JSON type and none (undefined drops the field), deep and shallow. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: junkString },
  { weight: 1, arbitrary: badBase64 },
  {
    weight: 1,
    arbitrary: fc.constantFrom(undefined, null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 63), [], {}, [[]], { '': null }),
  },
  { weight: 1, arbitrary: fc.integer() },
);

/** Not `localpart@server` as the API defines it. */
export const badAddress: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '@',
    'a@',
    '@b.test',
    'A@B.TEST',
    'a@@b.test',
    'a b@c.test',
    'a@b..test',
    'a@-b.test',
    `${'a'.repeat(65)}@b.test`,
    `a@${'b'.repeat(254)}`,
    'a@b.test/1',
    'a%40b..test',
    'A%40b.test',
  ),
  junkString.filter((s) => !/^[a-z0-9._-]{1,64}@[a-z0-9.-]+$/.test(s)),
);

/** Not a device id (1..127) nor `*`. */
export const badDeviceId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('0', '128', '-1', '1.5', '01x', '1e2', '0x1', '9'.repeat(40), ' 1', '**', 'all'),
  fc.integer({ min: 128 }).map(String),
  junkString.filter((s) => !/^(\*|[0-9]+)$/.test(s.trim())),
);

/** encodeURIComponent that also takes lone surrogates (as U+FFFD, what a client's encoder would send). */
export const encodeLoose = (text: string): string =>
  encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

/** A path segment: encoded (as a client would) or raw (percent escapes left broken). */
export const segment = (value: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(value, fc.boolean()).map(([v, raw]) => (raw ? v.replace(/[/?#\s]/g, '%20') : encodeLoose(v)));

/** A query string of junk parameters (possibly with the route's names). */
export const junkQuery = (names: string[] = []): fc.Arbitrary<string> =>
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...names, 'x', ''), fc.string({ maxLength: 8 })), junkString), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${encodeLoose(k)}=${encodeLoose(v)}`).join('&')}` : ''));

export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'application/octet-stream',
      '',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: headerText(60) },
);

/** Headers a client might add or get wrong (never auth; that is drawn separately). */
export const oddHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.record({ 'idempotency-key': headerText(300) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      'unidentified-access-key': fc.oneof(
        badBase64.filter((s) => /^[\x20-\x7e]*$/.test(s) && s.length < 8000),
        headerText(),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ accept: headerText(), 'accept-encoding': fc.constantFrom('gzip', 'br', 'x-junk', '*') }) },
  {
    weight: 1,
    arbitrary: fc.record({ 'x-forwarded-for': headerText(), 'sealpost-origin': headerText(), 'sealpost-destination': headerText() }),
  },
  { weight: 1, arbitrary: fc.record({ 'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'x-junk') }) },
);

/** Authorization values that authenticate no one. */
export const badAuthorization: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    'Bearer  x',
    'Basic YWxpY2U6aHVudGVyMg==',
    'bearer AAAA',
    `Bearer ${'A'.repeat(4000)}`,
    'Bearer a.b.c',
  ),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => `Bearer ${Buffer.from(b).toString('base64')}`),
  headerText().map((t) => `Bearer ${t}`),
  headerText(),
);

/** Paths into a JSON template (objects and arrays), for choosing the field to break. */
function fieldPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => fieldPaths(v, [...prefix, k]))];
}

function replaceAt(template: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: any = Array.isArray(template) ? [...template] : { ...(template as object) };
  const [head, ...rest] = path;
  if (rest.length === 0 && value === undefined) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete copy[head];
  } else {
    copy[head] = replaceAt(copy[head], rest, value);
  }
  return copy;
}

export interface BodyCase {
  kind: string;
  text: string | undefined;
}

/**
 * Bodies for a route that takes `template` (a well-formed body, already carrying one fault that
 * no single change can repair): the template with one field replaced by junk, arbitrary JSON,
 * a truncated template, non-JSON text, no body, and now and then one over the 1 MiB limit.
 */
export function badBody(template: () => unknown): fc.Arbitrary<BodyCase> {
  const base = template();
  const paths = fieldPaths(base);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...paths), junkValue)
        .map(([path, value]) => ({ kind: 'one field junk', text: JSON.stringify(replaceAt(base, path, value)) ?? '' })),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: 'arbitrary JSON', text: JSON.stringify(v) })) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }).map((v) => ({ kind: 'arbitrary value', text: safeStringify(v) })) },
    {
      weight: 2,
      arbitrary: fc
        .integer({ min: 0, max: 400 })
        .map((cut) => ({ kind: 'truncated', text: JSON.stringify(base).slice(0, Math.min(cut, JSON.stringify(base).length - 1)) })),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((t) => ({ kind: 'not JSON', text: t })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'no body', text: undefined }) },
    {
      weight: 1,
      arbitrary: fc
        .constant(null)
        .map(() => ({ kind: 'over 1 MiB', text: JSON.stringify({ ...(base as object), padding: 'x'.repeat(1024 * 1024 + 16) }) })),
    },
  ) as fc.Arbitrary<BodyCase>;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'undefined';
  } catch {
    return String(value);
  }
}
