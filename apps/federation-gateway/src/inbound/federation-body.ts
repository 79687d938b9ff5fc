import { applyDecorators, UseGuards } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import type { FederationLimits } from '@sealpost/config';
import { ApiError } from '@sealpost/http';
import { FederationAuthGuard } from './federation-auth.guard';
import { FederationAdmissionRecord, refuseSignature } from './federation-admission.service';

/** What a signed federation route may carry: nothing (GET), one delivery, or a batch of deliveries. */
export type FederationBody = 'none' | 'delivery' | 'batch';

export interface FederationRouteConfig {
  federationBody?: FederationBody;
}

/** Body cap of every route that is not a signed federation route (discovery, server keys, admin…). */
export const UNSIGNED_ROUTE_MAX_BODY_BYTES = 64 * 1024;

/**
 * A server-to-server route: admitted by its signed headers before its body is read (see
 * installFederationAdmission), its body capped by what `body` can legitimately hold, and checked
 * again by FederationAuthGuard in the handler.
 */
export const SignedFederationRoute = (body: FederationBody = 'none') =>
  applyDecorators(RouteConfig({ federationBody: body } satisfies FederationRouteConfig), UseGuards(FederationAuthGuard));

export function bodyCap(body: FederationBody, limits: FederationLimits): number {
  if (body === 'batch') return limits.maxBatchBodyBytes;
  if (body === 'delivery') return limits.maxDeliveryBodyBytes;
  return 0;
}

export const payloadTooLarge = (cap: number) =>
  new ApiError(413, 'payload_too_large', `request body is larger than this route takes (${cap} bytes)`);

/**
 * The body as Fastify's parser reads it: counted (abandoned with 413 past `cap`) and hashed while
 * it passes, its SHA-256 compared with the Content-Digest claimed in the signed headers at the end
 * (401 on a mismatch, `record.bodyDigestVerified` on a match). `receivedEncodedLength` is what
 * Fastify checks against Content-Length.
 */
export class DigestCheckedBody extends Transform {
  receivedEncodedLength = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly cap: number,
    private readonly claimed: Buffer | null,
    private readonly record: FederationAdmissionRecord | null,
    private readonly onRefused: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    if (this.receivedEncodedLength > this.cap) {
      this.onRefused();
      callback(payloadTooLarge(this.cap));
      return;
    }
    if (this.record) this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.record) return callback();
    const actual = this.hash.digest();
    if (!this.claimed || !timingSafeEqual(this.claimed, actual)) {
      this.onRefused();
      return callback(refuseSignature('content-digest does not match the body'));
    }
    this.record.bodyDigestVerified = true;
    callback();
  }
}
