import { Body, Controller, HttpCode, Inject, Param, Put, Res } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import type { FastifyReply } from 'fastify';
import { firstValueFrom, timeout } from 'rxjs';
import { BUS_CLIENT } from '@sealpost/bus';
import type { GatewayConfig } from '@sealpost/config';
import {
  DeliveryReply,
  DeliveryResult,
  RelayPattern,
  RemoteDelivery,
  parseAddress,
  parseDeliveryBatch,
  parseRemoteDelivery,
} from '@sealpost/contracts';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { FederationOrigin } from './federation-auth.guard';
import { SignedFederationRoute, payloadTooLarge } from './federation-body';

const RELAY_TIMEOUT_MS = 15_000;

/**
 * Envelopes from another homeserver for users of this one. Each delivery is checked against the
 * verified origin (an identified sender must belong to it), then handed to the relay, which
 * applies the same 409/410 rules as for local sends and is idempotent on the origin's id.
 */
@Controller('federation/v1/messages')
export class FederationMessagesController {
  constructor(
    @Inject(BUS_CLIENT) private readonly bus: ClientProxy,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Batch: `{deliveries: [...]}` → `{results: [{id, status, body}]}`. Deliveries to one recipient
   * are stored one after another in batch order (the origin's send order); different recipients
   * in parallel.
   */
  @Put()
  @SignedFederationRoute('batch')
  @HttpCode(200)
  async deliverBatch(@FederationOrigin() origin: string, @Body() body: unknown): Promise<{ results: DeliveryResult[] }> {
    const limits = this.config.federationLimits;
    const deliveries = parseDeliveryBatch(body, limits.maxEnvelopeBytes);
    const envelopes = deliveries.reduce((n, d) => n + d.messages.length, 0);
    if (envelopes > limits.maxEnvelopesPerRequest) throw payloadTooLarge(limits.maxBatchBodyBytes);
    const byRecipient = new Map<string, RemoteDelivery[]>();
    for (const d of deliveries) byRecipient.set(d.address, [...(byRecipient.get(d.address) ?? []), d]);
    const results = new Map<string, DeliveryResult>();
    await Promise.all(
      [...byRecipient.values()].map(async (group) => {
        for (const d of group) results.set(d.id, { id: d.id, ...(await this.deliverOne(origin, d)) });
      }),
    );
    return { results: deliveries.map((d) => results.get(d.id) as DeliveryResult) };
  }

  @Put(':address')
  @SignedFederationRoute('delivery')
  async deliver(
    @FederationOrigin() origin: string,
    @Param('address') address: string,
    @Body() body: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const delivery = parseRemoteDelivery(body, 'body', this.config.federationLimits.maxEnvelopeBytes, address);
    const result = await this.deliverOne(origin, delivery);
    void reply.status(result.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(result.body));
  }

  private async deliverOne(origin: string, delivery: RemoteDelivery): Promise<DeliveryReply> {
    if (parseAddress(delivery.address).server !== this.config.serverName) {
      return { status: 404, body: { error: 'not_found', message: `${delivery.address} is not a user of ${this.config.serverName}` } };
    }
    if (delivery.source && parseAddress(delivery.source).server !== origin) {
      return {
        status: 403,
        body: { error: 'origin_mismatch', message: `a request from ${origin} cannot carry envelopes from ${delivery.source}` },
      };
    }
    try {
      return await firstValueFrom(
        this.bus.send<DeliveryReply>(RelayPattern.DeliverInbound, { origin, delivery }).pipe(timeout(RELAY_TIMEOUT_MS)),
      );
    } catch {
      return { status: 503, body: { error: 'relay_unavailable', message: 'the relay did not answer; retry later' } };
    }
  }
}
