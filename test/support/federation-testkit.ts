import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { initCrypto } from '../../libs/crypto/src';
import { contentDigest, signRequest } from '../../libs/http-signatures/src';
import type { FederatedHomeserver } from './federation-harness';
import { JsonAnswer, answerOf } from './http';

/**
 * Helpers for the federation specs. Mainly raw server-to-server requests as a test crafts them:
 * signed (RFC 9421, ed25519) with a homeserver's real signing key read from its KEYS_DIR, then
 * optionally tampered with before they are sent, to probe what a gateway admits. Also: a look into
 * a test homeserver's database (relay envelopes, federation outbox), device linking, and
 * `keepsHolding` for asserting that something does not happen.
 */

export interface ServerSigningKey {
  server: string;
  keyId: string;
  /** 64-byte libsodium Ed25519 secret key. */
  secretKey: Buffer;
}

/** The key a gateway signs with: the newest still-valid `ed25519-<keyId>.json` in its KEYS_DIR. */
export function readSigningKey(hs: FederatedHomeserver): ServerSigningKey {
  const dir = hs.gatewayConfig.keysDir;
  const files = readdirSync(dir).filter((n) => /^ed25519-[A-Za-z0-9_-]{1,32}\.json$/.test(n));
  const keys = files
    .map(
      (n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as { keyId: string; secretKey: string; createdAt: string; validUntil: string },
    )
    .filter((k) => Date.parse(k.validUntil) > Date.now())
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const key = keys[keys.length - 1];
  if (!key) throw new Error(`no valid signing key in ${dir}`);
  return { server: hs.server, keyId: key.keyId, secretKey: Buffer.from(key.secretKey, 'base64') };
}

export interface CraftOptions {
  method: 'GET' | 'PUT' | 'POST';
  /** Base URL of the receiving gateway (its public URL, as the harness sets it). */
  baseUrl: string;
  path: string;
  body?: unknown;
  /** Sent and signed as it is (for malformed bodies); takes the place of `body`. */
  rawBody?: string;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  key: ServerSigningKey;
  /** Defaults to key.server. */
  origin?: string;
  destination: string;
  /** Defaults to `${key.server}#${key.keyId}`. */
  keyid?: string;
  /** UNIX seconds; defaults to now. */
  created?: number;
  /** Defaults to a fresh random nonce. */
  nonce?: string;
}

export interface CraftedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Builds a correctly signed federation request, exactly as FederationHttpClient would. */
export async function craftSignedRequest(opts: CraftOptions): Promise<CraftedRequest> {
  await initCrypto();
  const url = `${opts.baseUrl}${opts.path}`;
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = {
    'content-digest': contentDigest(body ?? ''),
    'sealpost-origin': opts.origin ?? opts.key.server,
    'sealpost-destination': opts.destination,
  };
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  Object.assign(
    headers,
    signRequest(
      { method: opts.method, targetUri: url, headers },
      {
        keyId: opts.keyid ?? `${opts.key.server}#${opts.key.keyId}`,
        secretKey: opts.key.secretKey,
        created: opts.created,
        nonce: opts.nonce ?? randomBytes(12).toString('base64url'),
      },
    ),
  );
  return { method: opts.method, url, headers, body };
}

/** Sends a crafted request as it is (tampering is done on the object beforehand). */
export async function sendCrafted<T = any>(request: CraftedRequest): Promise<JsonAnswer<T>> {
  return answerOf<T>(await fetch(request.url, { method: request.method, headers: request.headers, body: request.body }));
}

/** Signs and sends in one step. */
export async function signedCall<T = any>(opts: CraftOptions): Promise<JsonAnswer<T>> {
  return sendCrafted<T>(await craftSignedRequest(opts));
}

/** Flips one bit of the signature bytes in a `sig1=:<base64>:` Signature header. */
export function flipSignatureBit(signatureHeader: string): string {
  const match = /^([^=]+)=:([A-Za-z0-9+/=]+):$/.exec(signatureHeader);
  if (!match) throw new Error(`unexpected Signature header ${signatureHeader}`);
  const bytes = Buffer.from(match[2], 'base64');
  bytes[10] ^= 0x01;
  return `${match[1]}=:${bytes.toString('base64')}:`;
}

/** One identified delivery as it crosses federation (PUT /federation/v1/messages). */
export function identifiedDelivery(opts: {
  to: { address: string; registrationId: number };
  source: string;
  sourceDevice?: number;
  text: string;
  id?: string;
  timestamp?: number;
}) {
  return {
    id: opts.id ?? randomUUID(),
    address: opts.to.address,
    timestamp: opts.timestamp ?? Date.now(),
    urgent: true,
    messages: [{ deviceId: 1, registrationId: opts.to.registrationId, type: 1, content: Buffer.from(opts.text).toString('base64') }],
    source: opts.source,
    sourceDevice: opts.sourceDevice ?? 1,
  };
}

/** A pool on the database of one test homeserver (the harness gives each server name its own). */
export function serverPool(hs: FederatedHomeserver): Pool {
  return new Pool({ connectionString: hs.gatewayConfig.databaseUrl, max: 2 });
}

/** How many envelopes a homeserver's relay holds for an account. */
export async function storedFor(pool: Pool, accountId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM relay.envelopes WHERE account_id = $1', [accountId]);
  return rows[0].n;
}

/** Rows of a homeserver's federation outbox for one destination (optionally one sending account). */
export async function outboxRows(pool: Pool, destination: string, senderAccountId?: string): Promise<number> {
  const { rows } =
    senderAccountId === undefined
      ? await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM federation.outbox WHERE destination = $1', [destination])
      : await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM federation.outbox WHERE destination = $1 AND sender_account_id = $2',
          [destination, senderAccountId],
        );
  return rows[0].n;
}

/**
 * Asserts that `predicate` keeps holding for `ms` (polled): for proving that something does NOT
 * happen, where no event can be awaited. Bounded by `ms`.
 */
export async function keepsHolding(predicate: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!predicate()) throw new Error(`${what} stopped holding`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!predicate()) throw new Error(`${what} stopped holding`);
}
