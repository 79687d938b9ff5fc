import fc from 'fast-check';
import { LOCALPART_PATTERN, SERVER_PATTERN } from '../../libs/contracts/src';
import type { DeviceKeyMaterial } from '../../libs/client/src';
import { registrationBody, uniqueLocalpart } from '../support/accounts';
import { identifiedDelivery } from '../support/federation-testkit';
import {
  BodyCase,
  badAddress,
  badAuthorization,
  badBody,
  badDeviceId,
  contentType,
  headerText,
  junkQuery,
  junkString,
  oddHeaders,
  segment,
} from '../support/fuzz-arbitraries';

/**
 * Every public, federation and admin HTTP route of one homeserver, each with the arbitrary of
 * bad requests the bad-input suite sends it. A route whose only input is its authentication gets
 * only credentials that authenticate no one; a route with other input also gets valid
 * credentials with bad input. Where a drawn request may be valid after all (a public route with
 * no input, a validly signed ping), `mayAccept` says so and a 2xx is counted, not failed.
 */

export type Service = 'directory' | 'relay' | 'gateway';
export type Auth =
  | { kind: 'header'; value: string | undefined }
  | { kind: 'signed' } // RFC 9421 signed by the peer's real key, for this very request
  | { kind: 'garbage-signature'; value: string };

export interface Draft {
  service: Service;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  auth: Auth;
  body?: BodyCase;
  contentType?: string;
  headers: Record<string, string>;
}

export interface FuzzContext {
  server: string;
  /** The peer whose key signs the federation requests (deliveries name a source on it). */
  peer: string;
  /** A throwaway account on this server: valid credentials for routes whose other input is bad. */
  fuzzer: { token: string; identity: DeviceKeyMaterial; address: string };
  /** The account whose data must come through unchanged. */
  victim: { address: string; registrationId: number; identity: DeviceKeyMaterial };
  adminToken: string;
}

export interface RouteFuzz {
  label: string;
  /** Built on first use (the templates need the accounts). */
  draft(): fc.Arbitrary<Draft>;
  mayAccept(draft: Draft): boolean;
  /** For a batch route: a 200 whose every per-item result is a 4xx `{error, message}` is a refusal too. */
  refusedInside?(body: any): boolean;
}

const NEVER = () => false;
const bearer = (token: string) => ({ kind: 'header' as const, value: `Bearer ${token}` });
const noCredentials: fc.Arbitrary<Auth> = badAuthorization.map((value) => ({ kind: 'header', value }));
const withCredentials = (token: string): fc.Arbitrary<Auth> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(bearer(token)) }, { weight: 1, arbitrary: noCredentials });
const federation: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Auth>({ kind: 'signed' }) },
  { weight: 1, arbitrary: noCredentials },
  { weight: 1, arbitrary: headerText().map((value): Auth => ({ kind: 'garbage-signature', value })) },
);

function route(
  label: string,
  parts: { service: Service; method: Draft['method']; path: fc.Arbitrary<string>; auth: fc.Arbitrary<Auth>; body?: () => unknown },
  mayAccept: (d: Draft) => boolean = NEVER,
): RouteFuzz {
  const draft = () =>
    fc.record({
      service: fc.constant(parts.service),
      method: fc.constant(parts.method),
      path: parts.path,
      auth: parts.auth,
      body: parts.body
        ? badBody(parts.body)
        : fc.option(
            badBody(() => ({})),
            { nil: undefined },
          ),
      contentType,
      headers: oddHeaders,
    }) as fc.Arbitrary<Draft>;
  return { label, draft, mayAccept };
}

const isSigned = (d: Draft) => d.auth.kind === 'signed';
const everyResultRefused = (body: any): boolean =>
  Array.isArray(body?.results) &&
  body.results.length > 0 &&
  body.results.every(
    (r: any) => r.status >= 400 && r.status < 500 && typeof r.body?.error === 'string' && typeof r.body?.message === 'string',
  );
/** The last path segment (query dropped), decoded as the server will; null when it does not decode. */
const lastSegment = (d: Draft): string | null => {
  try {
    return decodeURIComponent(d.path.split('?')[0].split('/').pop() ?? '');
  } catch {
    return null;
  }
};
/** The last segment is a valid server name / address after all (e.g. `a%40b.test` sent raw), so a 2xx may be right. */
/** `{deliveries: []}`: a signed batch of nothing is a valid no-op (answered 200 `{results: []}`). */
const isEmptyBatch = (text: string | undefined): boolean => {
  try {
    return JSON.stringify(JSON.parse(text ?? '')) === '{"deliveries":[]}';
  } catch {
    return false;
  }
};
const namesAServer = (d: Draft): boolean => SERVER_PATTERN.test(lastSegment(d) ?? '');
const namesAnAddress = (d: Draft): boolean => {
  const [localpart, server, ...rest] = (lastSegment(d) ?? '').split('@');
  return rest.length === 0 && server !== undefined && LOCALPART_PATTERN.test(localpart) && SERVER_PATTERN.test(server);
};
const path = (text: string): fc.Arbitrary<string> => fc.tuple(fc.constant(text), junkQuery()).map(([p, q]) => `${p}${q}`);

export function routesOf(ctx: FuzzContext): RouteFuzz[] {
  const { fuzzer, victim } = ctx;
  // Templates carry two faults no single change repairs (so no drawn body is valid by chance).
  const retype = (base64: string) => {
    const b = Buffer.from(base64, 'base64');
    b[0] = 0x07;
    return b.toString('base64');
  };
  const registration = () => {
    const body: any = registrationBody(victim.identity, uniqueLocalpart('fuzz'), { preKeys: 1, pqPreKeys: 1 });
    body.signedPreKey = { ...body.signedPreKey, signature: fuzzer.identity.signedPreKey(1).signature };
    body.preKeys = [{ keyId: 1, publicKey: retype(body.preKeys[0].publicKey) }];
    return body;
  };
  const upload = () => ({
    signedPreKey: { ...fuzzer.identity.signedPreKey(9), signature: victim.identity.signedPreKey(9).signature },
    preKeys: [{ keyId: 9, publicKey: retype(fuzzer.identity.preKey(9).publicKey) }],
  });
  const link = () => ({
    code: 'AAAAAAAAAAAAAAAAAAAAAAAA',
    registrationId: 7,
    signedPreKey: { ...upload().signedPreKey },
    pqLastResortPreKey: fuzzer.identity.pqPreKey(8),
    preKeys: upload().preKeys,
  });
  const identityKeyChange = () => ({
    identityKey: retype(victim.identity.identityKeyBase64),
    signedPreKey: upload().signedPreKey,
    pqLastResortPreKey: fuzzer.identity.pqPreKey(3),
  });
  const staleMessages = () => ({
    timestamp: 1,
    messages: [{ deviceId: 1, registrationId: victim.registrationId + 20_000, type: 1, content: Buffer.from('junk').toString('base64') }],
  });
  const staleDelivery = () => {
    const d: any = identifiedDelivery({
      to: { address: victim.address, registrationId: victim.registrationId + 20_000 },
      source: `fuzz@${ctx.peer}`,
      text: 'junk',
    });
    return d;
  };
  const { address: _a, ...staleSingle } = staleDelivery();
  const addr = segment(badAddress);
  const dev = segment(badDeviceId);
  const badServer = segment(junkString.filter((s) => !SERVER_PATTERN.test(s)));
  const anyServer = segment(fc.oneof(junkString, fc.constantFrom('beta.test', 'nowhere.example')));

  return [
    // --- prekey directory ---
    route('POST /v1/accounts', {
      service: 'directory',
      method: 'POST',
      path: path('/v1/accounts'),
      auth: noCredentials,
      body: registration,
    }),
    route('DELETE /v1/accounts/me', { service: 'directory', method: 'DELETE', path: path('/v1/accounts/me'), auth: noCredentials }),
    route('PUT /v1/accounts/identity-key', {
      service: 'directory',
      method: 'PUT',
      path: path('/v1/accounts/identity-key'),
      auth: withCredentials(fuzzer.token),
      body: identityKeyChange,
    }),
    route('POST /v1/devices/link-codes', {
      service: 'directory',
      method: 'POST',
      path: path('/v1/devices/link-codes'),
      auth: noCredentials,
    }),
    route('POST /v1/devices', {
      service: 'directory',
      method: 'POST',
      path: path('/v1/devices'),
      auth: fc.constant({ kind: 'header', value: undefined }),
      body: link,
    }),
    route('GET /v1/devices', { service: 'directory', method: 'GET', path: path('/v1/devices'), auth: noCredentials }),
    route('DELETE /v1/devices/{id}', {
      service: 'directory',
      method: 'DELETE',
      path: dev.map((d) => `/v1/devices/${d}`),
      auth: withCredentials(fuzzer.token),
    }),
    route('PUT /v1/keys', {
      service: 'directory',
      method: 'PUT',
      path: path('/v1/keys'),
      auth: withCredentials(fuzzer.token),
      body: upload,
    }),
    route('GET /v1/keys', { service: 'directory', method: 'GET', path: path('/v1/keys'), auth: noCredentials }),
    route('GET /v1/keys/{address}/{device}', {
      service: 'directory',
      method: 'GET',
      auth: withCredentials(fuzzer.token),
      path: fc
        .oneof(
          fc.tuple(addr, fc.constantFrom('1', '*')),
          fc.tuple(fc.constant(encodeURIComponent(victim.address)), dev),
          fc.tuple(addr, dev),
        )
        .map(([a, d]) => `/v1/keys/${a}/${d}`),
    }),
    route('GET /v1/certificate/delivery', {
      service: 'directory',
      method: 'GET',
      path: path('/v1/certificate/delivery'),
      auth: noCredentials,
    }),
    route('GET /v1/kt/head', { service: 'directory', method: 'GET', path: path('/v1/kt/head'), auth: noCredentials }, () => true),
    route('GET /v1/kt/keys', { service: 'directory', method: 'GET', path: path('/v1/kt/keys'), auth: noCredentials }, () => true),
    route('GET /v1/kt/inclusion', {
      service: 'directory',
      method: 'GET',
      path: junkQuery(['address', 'version']).map((q) => `/v1/kt/inclusion${q}`),
      auth: noCredentials,
    }),
    route('GET /v1/kt/consistency', {
      service: 'directory',
      method: 'GET',
      path: junkQuery(['from', 'to']).map((q) => `/v1/kt/consistency${q}`),
      auth: noCredentials,
    }),
    route(
      'GET /v1/kt/history/{address}',
      { service: 'directory', method: 'GET', path: addr.map((a) => `/v1/kt/history/${a}`), auth: noCredentials },
      namesAnAddress,
    ),
    // --- relay ---
    route('PUT /v1/messages/{address}', {
      service: 'relay',
      method: 'PUT',
      auth: withCredentials(fuzzer.token),
      body: staleMessages,
      path: fc.oneof(
        { weight: 3, arbitrary: fc.constant(`/v1/messages/${encodeURIComponent(victim.address)}`) },
        { weight: 1, arbitrary: addr.map((a) => `/v1/messages/${a}`) },
      ),
    }),
    // No provisioning socket is open during the run: even a well-formed PUT finds no address (404).
    route('PUT /v1/provisioning/{address}', {
      service: 'relay',
      method: 'PUT',
      auth: withCredentials(fuzzer.token),
      body: () => ({ body: 'not base64!', to: 'x' }),
      path: fc.oneof(
        {
          weight: 2,
          arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => `/v1/provisioning/${Buffer.from(b).toString('base64url')}`),
        },
        { weight: 1, arbitrary: segment(junkString).map((p) => `/v1/provisioning/${p}`) },
      ),
    }),
    // --- federation gateway: public ---
    route(
      'GET /.well-known/sealpost',
      { service: 'gateway', method: 'GET', path: path('/.well-known/sealpost'), auth: noCredentials },
      () => true,
    ),
    route(
      'GET /federation/v1/server-keys',
      { service: 'gateway', method: 'GET', path: path('/federation/v1/server-keys'), auth: noCredentials },
      () => true,
    ),
    route(
      'GET /federation/v1/kt/observed/{server}',
      { service: 'gateway', method: 'GET', path: anyServer.map((s) => `/federation/v1/kt/observed/${s}`), auth: noCredentials },
      namesAServer,
    ),
    // --- federation gateway: signed ---
    route('GET /federation/v1/ping', { service: 'gateway', method: 'GET', path: path('/federation/v1/ping'), auth: federation }, isSigned),
    route('GET /federation/v1/keys/{address}/{device}', {
      service: 'gateway',
      method: 'GET',
      auth: federation,
      path: fc
        .oneof(fc.tuple(addr, fc.constantFrom('1', '*')), fc.tuple(fc.constant(encodeURIComponent(victim.address)), dev))
        .map(([a, d]) => `/federation/v1/keys/${a}/${d}`),
    }),
    // a batch answers 200 with one result per delivery; each must be a clean refusal
    {
      ...route(
        'PUT /federation/v1/messages',
        {
          service: 'gateway',
          method: 'PUT',
          path: fc.constant('/federation/v1/messages'),
          auth: federation,
          body: () => ({ deliveries: [staleDelivery()] }),
        },
        (d) => isSigned(d) && isEmptyBatch(d.body?.text),
      ),
      refusedInside: everyResultRefused,
    },
    route('PUT /federation/v1/messages/{address}', {
      service: 'gateway',
      method: 'PUT',
      path: fc.constant(`/federation/v1/messages/${encodeURIComponent(victim.address)}`),
      auth: federation,
      body: () => staleSingle,
    }),
    route(
      'GET /federation/v1/kt/head',
      { service: 'gateway', method: 'GET', path: path('/federation/v1/kt/head'), auth: federation },
      isSigned,
    ),
    route(
      'GET /federation/v1/kt/keys',
      { service: 'gateway', method: 'GET', path: path('/federation/v1/kt/keys'), auth: federation },
      isSigned,
    ),
    route('GET /federation/v1/kt/consistency', {
      service: 'gateway',
      method: 'GET',
      path: junkQuery(['from', 'to']).map((q) => `/federation/v1/kt/consistency${q}`),
      auth: federation,
    }),
    route('GET /federation/v1/kt/inclusion', {
      service: 'gateway',
      method: 'GET',
      path: junkQuery(['address', 'version']).map((q) => `/federation/v1/kt/inclusion${q}`),
      auth: federation,
    }),
    // --- federation gateway: admin ---
    route('GET /admin/federation/status', {
      service: 'gateway',
      method: 'GET',
      path: path('/admin/federation/status'),
      auth: noCredentials,
    }),
    route(
      'POST /admin/federation/reset/{server}',
      {
        service: 'gateway',
        method: 'POST',
        auth: fc.oneof(fc.constant(bearer(ctx.adminToken)), noCredentials),
        path: fc.oneof({ weight: 3, arbitrary: badServer }, { weight: 1, arbitrary: anyServer }).map((s) => `/admin/federation/reset/${s}`),
      },
      (d) => d.auth.kind === 'header' && d.auth.value === `Bearer ${ctx.adminToken}` && namesAServer(d),
    ),
    // --- every service ---
    ...(['directory', 'relay', 'gateway'] as const).flatMap((service) => [
      route(`GET /healthz (${service})`, { service, method: 'GET', path: path('/healthz'), auth: noCredentials }, () => true),
      route(`GET /metrics (${service})`, { service, method: 'GET', path: path('/metrics'), auth: noCredentials }, () => true),
    ]),
  ];
}
