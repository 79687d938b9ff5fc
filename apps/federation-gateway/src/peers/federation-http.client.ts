import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '@sealpost/config';
import { contentDigest, signRequest } from '@sealpost/http-signatures';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { ServerKeysService } from '../server-keys/server-keys.service';
import { PeerResolver, PeerUnreachable } from './peer-resolver.service';

export interface PeerAnswer<T = unknown> {
  status: number;
  body: T;
  retryAfterSeconds: number | null;
}

/**
 * Signed server-to-server requests (RFC 9421, ed25519, covering @method, @target-uri,
 * content-digest, sealpost-origin, sealpost-destination, with created and a nonce).
 * Throws PeerUnreachable when no HTTP answer came back.
 */
@Injectable()
export class FederationHttpClient {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly resolver: PeerResolver,
    private readonly keys: ServerKeysService,
  ) {}

  async request<T = unknown>(destination: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<PeerAnswer<T>> {
    const base = await this.resolver.federationUrl(destination).catch((error: Error) => {
      throw error instanceof PeerUnreachable ? error : new PeerUnreachable(error.message);
    });
    const targetUri = `${base}${path}`;
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-digest': contentDigest(payload),
      'sealpost-origin': this.config.serverName,
      'sealpost-destination': destination,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { keyId, secretKey } = this.keys.signingKey();
    Object.assign(
      headers,
      signRequest(
        { method, targetUri, headers },
        {
          keyId: `${this.config.serverName}#${keyId}`,
          secretKey,
          nonce: randomBytes(12).toString('base64url'),
        },
      ),
    );
    let response: Response;
    try {
      response = await fetch(targetUri, {
        method,
        headers,
        body: body === undefined ? undefined : payload,
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new PeerUnreachable(`${destination} unreachable: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      status: response.status,
      body: parsed as T,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    };
  }
}
