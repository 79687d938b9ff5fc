import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RelayMetrics } from '../relay.metrics';
import { SEND_ROUTE } from './remote-send-admission.hook';

/** Counts every answer of `PUT /v1/messages/{address}` (refusals before the body is read too) as `sealpost_relay_sends_total{transport="http"}`. */
export function installSendMetrics(app: NestFastifyApplication): void {
  const sends = app.get(RelayMetrics).sends;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (request.method === 'PUT' && request.routeOptions.url === SEND_ROUTE)
        sends.inc({ transport: 'http', status: String(reply.statusCode) });
      done();
    });
}
