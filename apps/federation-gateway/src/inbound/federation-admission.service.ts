import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import type { GatewayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { sha256 } from '@sealpost/crypto';
import { ApiError, assertWithinRate, tooManyRequests } from '@sealpost/http';
import { COVERED_COMPONENTS, checkSignaturePolicy, parseSignatureHeaders, verifyRequestSignature } from '@sealpost/http-signatures';
import { REDIS, REDIS_PREFIX, TokenBucketScript, promptly } from '@sealpost/redis';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { KtGossip } from '../kt-gossip/kt-gossip.service';
import { KeyDiscoveryBusy, PeerKeysService } from '../peers/peer-keys.service';
import { ProvenPeers } from '../peers/proven-peers.service';

export const refuseSignature = (reason: string) => new ApiError(401, 'invalid_signature', reason);

/** What the admission proved about a request, kept on it for the guard and the body reader. */
export interface FederationAdmissionRecord {
  origin: string;
  /** Set once the body read matched the Content-Digest; a request without a body is checked by the guard. */
  bodyDigestVerified: boolean;
}

export type AdmittedRequest = FastifyRequest & { federationAdmission?: FederationAdmissionRecord };

/**
 * Judges a server-to-server request by its headers alone, before a byte of its body is read:
 * the origin is well formed and allowed (403), it is addressed to this server, it carries a
 * well-formed RFC 9421 signature inside the `created` window whose keyid names a key of that
 * origin — pinned, or fetched within the bounds of PeerKeysService (503 when key discovery is
 * saturated) — the signature verifies (it covers content-digest, so the body is bound by its
 * digest, checked while the body is read), it is not a replay, and the origin is within its
 * request budget and its cap on concurrent requests (429). Anything else is 401.
 */
@Injectable()
export class FederationAdmission {
  private readonly bucket: TokenBucketScript;
  private readonly inFlight = new Map<string, number>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    private readonly peerKeys: PeerKeysService,
    private readonly gossip: KtGossip,
    private readonly proven: ProvenPeers,
  ) {
    this.bucket = new TokenBucketScript(redis);
  }

  /** Admits the request (recording it on the request) or throws the ApiError to answer with. */
  async admit(request: AdmittedRequest, onDone: (release: () => void) => void): Promise<FederationAdmissionRecord> {
    const origin = header(request, 'sealpost-origin');
    if (!origin || !SERVER_PATTERN.test(origin)) throw refuseSignature('missing or malformed sealpost-origin');
    if (header(request, 'sealpost-destination') !== this.config.serverName)
      throw refuseSignature('sealpost-destination is not this server');
    if (this.config.denyOrigins.has(origin) || (this.config.allowOrigins.size > 0 && !this.config.allowOrigins.has(origin))) {
      throw new ApiError(403, 'origin_not_allowed', `${origin} may not federate with this server`);
    }
    const parsed = parseSignatureHeaders(request.headers as Record<string, string>);
    if (!parsed) throw refuseSignature('missing or malformed Signature / Signature-Input');
    const policy = checkSignaturePolicy(parsed, {
      requiredComponents: COVERED_COMPONENTS,
      now: Math.floor(Date.now() / 1000),
      maxSkewSeconds: this.config.signatureMaxSkewSeconds,
    });
    if (policy) throw refuseSignature(policy);
    const [keyServer, keyId] = parsed.params.keyid.split('#');
    if (keyServer !== origin || !keyId) throw refuseSignature('keyid does not belong to sealpost-origin');
    const publicKey = await this.peerKeys.verificationKey(origin, keyId).catch((error: unknown) => {
      if (error instanceof KeyDiscoveryBusy) {
        throw new ApiError(
          503,
          'key_discovery_busy',
          'too many unknown origins are being looked up; retry later',
          {},
          { 'retry-after': '5' },
        );
      }
      throw error;
    });
    if (!publicKey) throw refuseSignature(`unknown key ${parsed.params.keyid}`);
    const headers = lowerCaseHeaders(request);
    const valid = this.targetUris(request).some((targetUri) =>
      verifyRequestSignature({ method: request.method, targetUri, headers }, parsed, publicKey),
    );
    if (!valid) throw refuseSignature('signature does not verify');
    const replayKey = `${this.prefix}fed:seen:{${origin}}:${sha256(Buffer.from(parsed.signature)).toString('base64url')}`;
    // Without Redis a replay cannot be ruled out: 503 at once (promptly), never a wait in the offline queue.
    const first = await promptly(this.redis, () => this.redis.set(replayKey, '1', 'EX', this.config.signatureMaxSkewSeconds * 2 + 5, 'NX'));
    if (first !== 'OK') throw refuseSignature('replayed request');
    const verdict = await this.bucket.take(
      `${this.prefix}rl:origin:{${origin}}`,
      this.config.originRateBurst,
      this.config.originRatePerMinute,
    );
    assertWithinRate(verdict);
    const running = this.inFlight.get(origin) ?? 0;
    if (running >= this.config.originMaxConcurrent) throw tooManyRequests(1);
    this.inFlight.set(origin, running + 1);
    onDone(() => {
      const left = (this.inFlight.get(origin) ?? 1) - 1;
      if (left > 0) this.inFlight.set(origin, left);
      else this.inFlight.delete(origin);
    });
    // A verified signature proves the origin is a Sealpost server holding that key: a gossip peer.
    this.proven.note(origin);
    this.gossip.contact(origin);
    const record = { origin, bodyDigestVerified: false };
    request.federationAdmission = record;
    return record;
  }

  /** The URI the peer signed: our public federation URL, or the Host it used. */
  private targetUris(request: FastifyRequest): string[] {
    const uris = [`${this.config.publicUrl}${request.url}`];
    const host = request.headers.host;
    if (host) uris.push(`http://${host}${request.url}`, `https://${host}${request.url}`);
    return uris;
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function lowerCaseHeaders(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
}
