import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, answerEarly } from '@sealpost/http';
import { RemoteSendAdmission } from './remote-send-admission.service';

/** The route of `PUT /v1/messages/{address}` as Fastify names it (MessagesController). */
export const SEND_ROUTE = '/v1/messages/:address';

/** A send whose sealed-remote buckets (SendRateLimiter.admitSealedRemote) were taken here, before its body was read. */
export type RemoteSendRequest = FastifyRequest & { sealedRemoteAdmitted?: boolean };

/**
 * RemoteSendAdmission for `PUT /v1/messages/{address}`, run as soon as its headers are read
 * (`onRequest`), before its body — up to RELAY_MAX_BODY_BYTES of envelopes — takes body budget or
 * is parsed. A send is sealed here when it has no Authorization and an Unidentified-Access-Key; a
 * refused one is answered unread (the body waits in the socket meanwhile: TCP back-pressure, no
 * body budget taken), and Node discards the body as it arrives (the connection stays usable).
 */
export function installRemoteSendAdmission(app: NestFastifyApplication): void {
  const admission = app.get(RemoteSendAdmission);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request: RemoteSendRequest, reply: FastifyReply) => {
      if (request.method !== 'PUT' || request.routeOptions.url !== SEND_ROUTE) return;
      const address = (request.params as { address?: unknown } | undefined)?.address;
      const sealed = request.headers.authorization === undefined && request.headers['unidentified-access-key'] !== undefined;
      try {
        if (await admission.admitEarly(address, sealed, request.ip)) request.sealedRemoteAdmitted = true;
      } catch (error) {
        if (error instanceof ApiError) return answerEarly(reply, error);
        throw error;
      }
    });
}
