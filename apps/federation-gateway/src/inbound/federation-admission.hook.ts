import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '@sealpost/config';
import { ApiError, answerEarly } from '@sealpost/http';
import { claimedSha256 } from '@sealpost/http-signatures';
import { AdmittedRequest, FederationAdmission } from './federation-admission.service';
import { DigestCheckedBody, FederationRouteConfig, UNSIGNED_ROUTE_MAX_BODY_BYTES, bodyCap, payloadTooLarge } from './federation-body';

/** Content-Length as a number, null for a body of unknown length (chunked), 0 for none. */
function declaredLength(request: FastifyRequest): number | null {
  if (request.headers['transfer-encoding'] !== undefined) return null;
  const length = Number(request.headers['content-length'] ?? 0);
  return Number.isFinite(length) ? length : null;
}

/**
 * How long a connection whose body was refused unread is kept after the answer, its incoming
 * bytes discarded, before it is destroyed. Closing at once would make the kernel reset the
 * connection over the unread bytes, and the sender could lose the answer with it (a lingering
 * close, as web servers do).
 */
const LINGER_AFTER_REFUSAL_MS = 2000;

/**
 * A refused body of at most this many declared bytes is read and discarded by Node (as for any
 * unconsumed request body) and its keep-alive connection serves the next request: a forged
 * small request costs its answer, not a new connection. A larger or chunked one is not worth
 * reading: its connection is closed (closeAfterAnswer).
 */
const DISCARDABLE_REFUSED_BODY_BYTES = 64 * 1024;

/**
 * A refusal sent before the body was (fully) read: the answer says `Connection: close` (so the
 * client does not send its next request on this connection), the rest of the body is discarded,
 * then the connection is closed. Only for a request with a body: a refused request without one
 * leaves nothing unread, and its keep-alive connection stays usable.
 */
function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  const socket = request.raw.socket;
  if (!reply.sent) void reply.header('connection', 'close');
  reply.raw.once('finish', () => {
    request.raw.unpipe();
    request.raw.resume();
    setTimeout(() => socket.destroy(), LINGER_AFTER_REFUSAL_MS).unref();
  });
}

/**
 * Installs the gate of the inbound federation path as a Fastify `preParsing` hook, which runs
 * after routing and before any body byte is read: a signed federation route (SignedFederationRoute)
 * is admitted by FederationAdmission on its headers alone, then its declared size is held to the
 * route's cap; the body is then read through DigestCheckedBody (cap and Content-Digest enforced
 * while streaming). Every other route of the gateway takes at most UNSIGNED_ROUTE_MAX_BODY_BYTES.
 * A refusal answers `{error, message}` JSON and discards what is still coming; past
 * DISCARDABLE_REFUSED_BODY_BYTES (or chunked) it also closes the connection.
 */
export function installFederationAdmission(app: NestFastifyApplication, config: GatewayConfig): void {
  const admission = app.get(FederationAdmission);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply, payload) => {
      const kind = (request.routeOptions.config as FederationRouteConfig | undefined)?.federationBody;
      const declared = declaredLength(request);
      const hasBody = declared === null || declared > 0;
      let record = null;
      let cap = UNSIGNED_ROUTE_MAX_BODY_BYTES;
      try {
        if (kind !== undefined) {
          record = await admission.admit(request as AdmittedRequest, (release) => reply.raw.once('close', release));
          cap = bodyCap(kind, config.federationLimits);
        }
        if (hasBody && (cap === 0 || (declared !== null && declared > cap))) throw payloadTooLarge(cap);
      } catch (error) {
        if (hasBody && (declared === null || declared > DISCARDABLE_REFUSED_BODY_BYTES)) closeAfterAnswer(request, reply);
        if (!(error instanceof ApiError)) throw error;
        // Forged and unwanted requests come in bulk: answered here, not through the error handler and filter chain.
        answerEarly(reply, error);
        return payload;
      }
      if (!hasBody) return payload;
      const body = new DigestCheckedBody(cap, record ? claimedSha256(header(request, 'content-digest')) : null, record, () =>
        closeAfterAnswer(request, reply),
      );
      // Not `pipeline`: it would destroy the request (and its socket) on a refusal, losing the answer.
      // A refusal unpipes and the answer closes the connection; a client abort reaches the reader through `body`.
      payload.on('error', (error) => body.destroy(error));
      payload.pipe(body);
      return body;
    });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
