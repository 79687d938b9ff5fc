import { Controller, DynamicModule, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { busServerStrategy } from '../../libs/bus/src';
import { DeliveryReply, FederationPattern, OutboundDeliveryRequest } from '../../libs/contracts/src';

/**
 * Stands in for a homeserver's federation gateway on its bus: records each outbound delivery the
 * relay hands over and answers with `reply` (settable per test). For relay specs that check the
 * hand-off itself without running real federation.
 */
export interface FakeGateway {
  received: OutboundDeliveryRequest[];
  reply: DeliveryReply;
  close(): Promise<void>;
}

export async function startFakeGateway(redisUrl: string, namespace: string): Promise<FakeGateway> {
  const state: FakeGateway = { received: [], reply: { status: 202, body: {} }, close: async () => undefined };

  @Controller()
  class FakeGatewayController {
    @MessagePattern(FederationPattern.Deliver)
    deliver(@Payload() request: OutboundDeliveryRequest): DeliveryReply {
      state.received.push(request);
      return state.reply;
    }
  }

  @Module({})
  class FakeGatewayModule {
    static create(): DynamicModule {
      return { module: FakeGatewayModule, controllers: [FakeGatewayController] };
    }
  }

  const app: INestMicroservice = await NestFactory.createMicroservice(FakeGatewayModule.create(), {
    ...busServerStrategy({ redisUrl, namespace }),
    logger: false,
  });
  await app.listen();
  state.close = () => app.close();
  return state;
}
