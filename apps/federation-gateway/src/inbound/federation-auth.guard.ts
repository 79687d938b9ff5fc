import { CanActivate, ExecutionContext, Inject, Injectable, createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import type { GatewayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { sha256 } from '@sealpost/crypto';
import { ApiError, assertWithinRate, tooManyRequests } from '@sealpost/http';
import {
  COVERED_COMPONENTS,
  checkSignaturePolicy,
  parseSignatureHeaders,
  verifyContentDigest,
  verifyRequestSignature,
} from '@sealpost/http-signatures';
import { REDIS, REDIS_PREFIX, TokenBucketScript, promptly } from '@sealpost/redis';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { KtGossip } from '../kt-gossip/kt-gossip.service';
import { PeerKeysService } from '../peers/peer-keys.service';

type FederationRequest = FastifyRequest & { rawBody?: Buffer; federationOrigin?: string };

const refuse = (reason: string) => new ApiError(401, 'invalid_signature', reason);

/**
 * Admits a server-to-server request only if it is signed (RFC 9421, ed25519) by a pinned key of
 * the origin it claims, is addressed to this server, is fresh, is not a replay, carries a body
 * matching its Content-Digest, and the origin is allowed (403) and within its limits (429).
 */
@Injectable()
export class FederationAuthGuard implements CanActivate {
  private readonly bucket: TokenBucketScript;
  private readonly inFlight = new Map<string, number>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    private readonly peerKeys: PeerKeysService,
    private readonly gossip: KtGossip,
  ) {
    this.bucket = new TokenBucketScript(redis);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FederationRequest>();
    const reply = context.switchToHttp().getResponse<{ raw: { once(e: string, f: () => void): void } }>();
    const origin = header(request, 'sealpost-origin');
    if (!origin || !SERVER_PATTERN.test(origin)) throw refuse('missing or malformed sealpost-origin');
    if (header(request, 'sealpost-destination') !== this.config.serverName) throw refuse('sealpost-destination is not this server');
    if (this.config.denyOrigins.has(origin) || (this.config.allowOrigins.size > 0 && !this.config.allowOrigins.has(origin))) {
      throw new ApiError(403, 'origin_not_allowed', `${origin} may not federate with this server`);
    }
    const parsed = parseSignatureHeaders(request.headers as Record<string, string>);
    if (!parsed) throw refuse('missing or malformed Signature / Signature-Input');
    const policy = checkSignaturePolicy(parsed, {
      requiredComponents: COVERED_COMPONENTS,
      now: Math.floor(Date.now() / 1000),
      maxSkewSeconds: this.config.signatureMaxSkewSeconds,
    });
    if (policy) throw refuse(policy);
    const [keyServer, keyId] = parsed.params.keyid.split('#');
    if (keyServer !== origin || !keyId) throw refuse('keyid does not belong to sealpost-origin');
    const publicKey = await this.peerKeys.verificationKey(origin, keyId);
    if (!publicKey) throw refuse(`unknown key ${parsed.params.keyid}`);
    const headers = lowerCaseHeaders(request);
    const valid = this.targetUris(request).some((targetUri) =>
      verifyRequestSignature({ method: request.method, targetUri, headers }, parsed, publicKey),
    );
    if (!valid) throw refuse('signature does not verify');
    if (!verifyContentDigest(headers['content-digest'], request.rawBody ?? Buffer.alloc(0)))
      throw refuse('content-digest does not match the body');
    const replayKey = `${this.prefix}fed:seen:{${origin}}:${sha256(Buffer.from(parsed.signature)).toString('base64url')}`;
    // Without Redis a replay cannot be ruled out: 503 at once (promptly), never a wait in the offline queue.
    const first = await promptly(this.redis, () => this.redis.set(replayKey, '1', 'EX', this.config.signatureMaxSkewSeconds * 2 + 5, 'NX'));
    if (first !== 'OK') throw refuse('replayed request');
    const verdict = await this.bucket.take(
      `${this.prefix}rl:origin:{${origin}}`,
      this.config.originRateBurst,
      this.config.originRatePerMinute,
    );
    assertWithinRate(verdict);
    const running = this.inFlight.get(origin) ?? 0;
    if (running >= this.config.originMaxConcurrent) throw tooManyRequests(1);
    this.inFlight.set(origin, running + 1);
    reply.raw.once('close', () => this.inFlight.set(origin, (this.inFlight.get(origin) ?? 1) - 1));
    request.federationOrigin = origin;
    this.gossip.contact(origin);
    return true;
  }

  /** The URI the peer signed: our public federation URL, or the Host it used. */
  private targetUris(request: FederationRequest): string[] {
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

/** The verified origin server of a federation request (use with FederationAuthGuard). */
export const FederationOrigin = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const origin = context.switchToHttp().getRequest<FederationRequest>().federationOrigin;
  if (!origin) throw refuse('unauthenticated');
  return origin;
});
