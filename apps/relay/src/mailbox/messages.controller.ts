import { Body, Controller, Headers, HttpCode, Inject, Ip, Param, Put, Req, UseGuards } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { AuthenticatedDevice, SendMessagesResponse, parseIdempotencyKey, parseSendMessagesRequest } from '@sealpost/contracts';
import { OptionalDevice, OptionalDeviceAuthGuard } from '../directory-client/relay-auth.guard';
import { RELAY_CONFIG } from '../relay.tokens';
import { MessageIntake } from './message-intake.service';
import type { RemoteSendRequest } from './remote-send-admission.hook';

@Controller('v1/messages')
export class MessagesController {
  constructor(
    private readonly intake: MessageIntake,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  @Put(':address')
  @HttpCode(200)
  @UseGuards(OptionalDeviceAuthGuard)
  send(
    @Param('address') address: string,
    @Body() body: unknown,
    @OptionalDevice() sender: AuthenticatedDevice | null,
    @Ip() clientAddress: string,
    @Headers('unidentified-access-key') unidentifiedAccessKey: string | undefined,
    @Req() httpRequest: RemoteSendRequest,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<SendMessagesResponse> {
    parseIdempotencyKey(idempotencyKey, 'Idempotency-Key');
    const request = parseSendMessagesRequest(body, this.config.maxContentBytes);
    const sealedRemoteAdmitted = httpRequest.sealedRemoteAdmitted === true;
    return this.intake.send(address, request, { sender, unidentifiedAccessKey, idempotencyKey, clientAddress, sealedRemoteAdmitted });
  }
}
