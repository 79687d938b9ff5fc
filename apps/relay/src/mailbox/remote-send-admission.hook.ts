import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RelayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';
import { DestinationVerdicts } from '../federation-client/destination-verdicts.service';

/** The route of `PUT /v1/messages/{address}` as Fastify names it (MessagesController). */
const SEND_ROUTE = '/v1/messages/:address';

/** The server part of a send's address parameter, if it names another homeserver. */
function remoteServer(request: FastifyRequest, localServer: string): string | null {
  const address = (request.params as { address?: unknown } | undefined)?.address;
  if (typeof address !== 'string') return null;
  const server = address.slice(address.lastIndexOf('@') + 1);
  if (server === localServer || !SERVER_PATTERN.test(server)) return null;
  return server;
}

function answer(reply: FastifyReply, error: ApiError): void {
  void reply
    .code(error.getStatus())
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(error.getResponse()));
}

/**
 * Sends to a homeserver the gateway refused (DestinationVerdicts keeps its refusals) are answered
 * with that refusal as soon as their headers are read (`onRequest`): their body — up to
 * RELAY_MAX_BODY_BYTES of envelopes — takes no body budget, is never parsed, and Node discards it
 * as it arrives (the connection stays usable). What else a send is checked for (its token or
 * access key, its body, rate limits) is checked only for sends that could go anywhere, as before.
 */
export function installRemoteSendAdmission(app: NestFastifyApplication, config: RelayConfig): void {
  const verdicts = app.get(DestinationVerdicts);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (request.method !== 'PUT' || request.routeOptions.url !== SEND_ROUTE) return done();
      const server = remoteServer(request, config.serverName);
      const refusal = server ? verdicts.refusalFor(server) : null;
      if (!refusal) return done();
      answer(reply, refusal);
    });
}
