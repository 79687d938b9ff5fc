import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { isIP } from 'node:net';
import { Agent, fetch } from 'undici';
import type { GatewayConfig } from '@sealpost/config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { PeerAddressRefused, isNonPublicAddress, refusePrivateAtConnect } from './ssrf-guard';

export class PeerAnswerTooLarge extends Error {}
/** No complete answer came back within the request's timeout (the peer may be slow, or never answer). */
export class PeerNoAnswer extends Error {}

export interface PeerHttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface PeerHttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Largest answer body read; more is cut off with PeerAnswerTooLarge (default FEDERATION_PEER_ANSWER_MAX_BYTES). */
  maxAnswerBytes?: number;
  /** Whole request, answer read included (default FEDERATION_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * Every HTTP request this gateway makes to another server goes through here. A URL that is not
 * a static peer (FEDERATION_PEERS) goes through an undici Agent whose connect-time `lookup`
 * refuses private addresses (no DNS-rebinding window between check and connect), and an IP
 * literal must be public; FEDERATION_ALLOW_PRIVATE_PEERS turns both off. Every answer is read as
 * a stream and abandoned past a size cap, and every request has the federation timeout.
 */
@Injectable()
export class PeerHttp implements OnApplicationShutdown {
  private readonly guarded = new Agent({ connect: { lookup: refusePrivateAtConnect } });
  private readonly trusted = new Agent();
  private readonly staticOrigins: Set<string>;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {
    this.staticOrigins = new Set([...config.peers.values()].map((url) => new URL(url).origin));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.guarded.close(), this.trusted.close()]);
  }

  /** Throws PeerAddressRefused, PeerAnswerTooLarge, PeerNoAnswer (timeout), or the network error (refused, reset…). */
  async fetch(url: string, request: PeerHttpRequest = {}): Promise<PeerHttpAnswer> {
    const timeoutMs = request.timeoutMs ?? this.config.requestTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      return await this.fetchUntil(url, request, deadline);
    } catch (error) {
      if (deadline.aborted) throw new PeerNoAnswer(`no answer from ${new URL(url).host} within ${timeoutMs} ms`);
      throw error;
    }
  }

  private async fetchUntil(url: string, request: PeerHttpRequest, deadline: AbortSignal): Promise<PeerHttpAnswer> {
    const parsed = new URL(url);
    const trusted = this.config.allowPrivatePeers || this.staticOrigins.has(parsed.origin);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (!trusted && isIP(host) && isNonPublicAddress(host)) {
      throw new PeerAddressRefused(`refusing to contact ${host}: it is a private or loopback address`);
    }
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(url, {
        method: request.method ?? 'GET',
        headers: request.headers,
        body: request.body,
        signal: deadline,
        redirect: 'error',
        dispatcher: trusted ? this.trusted : this.guarded,
      });
    } catch (error) {
      throw connectRefusal(error) ?? error;
    }
    const body = await readCapped(response.body, request.maxAnswerBytes ?? this.config.federationLimits.peerAnswerMaxBytes, url);
    return { status: response.status, headers: response.headers as unknown as Headers, body };
  }
}

/** The PeerAddressRefused that undici wraps in a TypeError('fetch failed'), if that is what failed. */
function connectRefusal(error: unknown): PeerAddressRefused | null {
  for (let e = error as { cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e instanceof PeerAddressRefused) return e;
  }
  return null;
}

async function readCapped(stream: AsyncIterable<Uint8Array> | null, maxBytes: number, url: string): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      // Leaving the loop cancels the stream: the rest of the answer is never read.
      throw new PeerAnswerTooLarge(`the answer of ${new URL(url).host} is larger than ${maxBytes} bytes`);
    }
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}
