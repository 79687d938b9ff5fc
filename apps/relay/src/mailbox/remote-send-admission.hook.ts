import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';
import { DestinationVerdicts } from '../federation-client/destination-verdicts.service';
import { SendRateLimiter } from './send-rate-limiter.service';

/** The route of `PUT /v1/messages/{address}` as Fastify names it (MessagesController). */
const SEND_ROUTE = '/v1/messages/:address';

/** A send whose sealed-remote buckets (SendRateLimiter.admitSealedRemote) were taken here, before its body was read. */
export type RemoteSendRequest = FastifyRequest & { sealedRemoteAdmitted?: boolean };

/** The server part of a send's address parameter, if it names another homeserver. */
function remoteServer(request: FastifyRequest, localServer: string): string | null {
  const address = (request.params as { address?: unknown } | undefined)?.address;
  if (typeof address !== 'string') return null;
  const server = address.slice(address.lastIndexOf('@') + 1);
  if (server === localServer || !SERVER_PATTERN.test(server)) return null;
  return server;
}

function answer(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(error.getStatus())
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(error.getResponse()));
}

/**
 * What a send to another homeserver is checked for as soon as its headers are read (`onRequest`),
 * before its body — up to RELAY_MAX_BODY_BYTES of envelopes — takes body budget or is parsed:
 * - a destination the gateway refused (DestinationVerdicts keeps its refusals) gets that refusal;
 * - a sealed send (no Authorization, an Unidentified-Access-Key) takes its per-address and
 *   per-destination buckets here (`SEALED_REMOTE_RATE_*`, `REMOTE_DESTINATION_RATE_*`) and is
 *   marked, so MessageIntake does not take them twice; a 429 is answered unread. Then, for a
 *   destination with no verdict yet, the gateway is asked (DestinationVerdicts.admit) while the
 *   body waits unread in the socket (TCP back-pressure; no body budget taken): a refused first
 *   send is not parsed either. Identified sends are asked about after their token is checked
 *   (MessageIntake), so no one without an account or a token makes the gateway look up names
 *   faster than the sealed-send buckets allow.
 * A body answered here is discarded by Node as it arrives (the connection stays usable). A send
 * this hook cannot place (an address it does not parse) is checked by MessageIntake as before.
 */
export function installRemoteSendAdmission(app: NestFastifyApplication, config: RelayConfig): void {
  const verdicts = app.get(DestinationVerdicts);
  const limiter = app.get(SendRateLimiter);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request: RemoteSendRequest, reply: FastifyReply) => {
      if (request.method !== 'PUT' || request.routeOptions.url !== SEND_ROUTE) return;
      const server = remoteServer(request, config.serverName);
      if (!server) return;
      const refusal = verdicts.refusalFor(server);
      if (refusal) return answer(reply, refusal);
      if (request.headers.authorization !== undefined || request.headers['unidentified-access-key'] === undefined) return;
      try {
        await limiter.admitSealedRemote(request.ip, server);
        request.sealedRemoteAdmitted = true;
        await verdicts.admit(server);
      } catch (error) {
        if (error instanceof ApiError) return answer(reply, error);
        throw error;
      }
    });
}
