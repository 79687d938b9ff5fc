import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '@sealpost/config';
import { contentDigest, signRequest } from '@sealpost/http-signatures';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { ServerKeysService } from '../server-keys/server-keys.service';
import { PeerHttp, PeerHttpAnswer } from './peer-http';
import { PeerResolver, PeerUnreachable } from './peer-resolver.service';
import { ProvenPeers } from './proven-peers.service';
import { PeerAddressRefused } from './ssrf-guard';

export interface PeerAnswer<T = unknown> {
  status: number;
  body: T;
  retryAfterSeconds: number | null;
}

/**
 * Signed server-to-server requests (RFC 9421, ed25519, covering @method, @target-uri,
 * content-digest, sealpost-origin, sealpost-destination, with created and a nonce).
 * Throws PeerUnreachable when no HTTP answer came back (or it was larger than
 * FEDERATION_PEER_ANSWER_MAX_BYTES), PeerAddressRefused when the SSRF guard refused the peer.
 */
@Injectable()
export class FederationHttpClient {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly resolver: PeerResolver,
    private readonly keys: ServerKeysService,
    private readonly http: PeerHttp,
    private readonly proven: ProvenPeers,
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
    let answer: PeerHttpAnswer;
    try {
      answer = await this.http.fetch(targetUri, { method, headers, body: body === undefined ? undefined : payload });
    } catch (error) {
      if (error instanceof PeerAddressRefused) throw error;
      throw new PeerUnreachable(`${destination} unreachable: ${(error as Error).message}`);
    }
    // A 2xx answer to a signed request: the destination is a Sealpost server that accepts our keys.
    if (answer.status >= 200 && answer.status < 300) this.proven.note(destination);
    let parsed: unknown = null;
    try {
      parsed = answer.body.length > 0 ? JSON.parse(answer.body.toString('utf8')) : null;
    } catch {
      parsed = null;
    }
    const retryAfter = Number(answer.headers.get('retry-after'));
    return {
      status: answer.status,
      body: parsed as T,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    };
  }
}
