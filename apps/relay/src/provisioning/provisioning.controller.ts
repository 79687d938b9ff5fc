import { Body, Controller, HttpCode, Inject, Param, Put, UseGuards } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { AuthenticatedDevice, parseProvisioningAddress, parseProvisioningMessageRequest } from '@sealpost/contracts';
import { ApiError, unauthorized } from '@sealpost/http';
import { OptionalDevice, OptionalDeviceAuthGuard } from '../directory-client/relay-auth.guard';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';
import { ProvisioningDelivery } from './provisioning-delivery.service';
import { ProvisioningRateLimiter } from './provisioning-rate-limiter.service';

@Controller('v1/provisioning')
export class ProvisioningController {
  constructor(
    private readonly delivery: ProvisioningDelivery,
    private readonly limiter: ProvisioningRateLimiter,
    private readonly metrics: RelayMetrics,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  /**
   * A primary device's sealed message to a new device's provisioning socket: 204 once the socket
   * took it (the socket is then closed: one message per address), 404 when no live socket has
   * this address. The PUT budget is taken before the input is read, so malformed guesses count too.
   */
  @Put(':address')
  @HttpCode(204)
  @UseGuards(OptionalDeviceAuthGuard)
  async put(@Param('address') address: string, @Body() body: unknown, @OptionalDevice() device: AuthenticatedDevice | null): Promise<void> {
    if (!device) throw unauthorized();
    await this.limiter.admitPut(device);
    const target = parseProvisioningAddress(address);
    const sealed = parseProvisioningMessageRequest(body, this.config.provisioning.maxMessageBytes);
    const taken = await this.delivery.deliver(target, sealed);
    this.metrics.provisioningMessages.inc({ outcome: taken ? 'delivered' : 'not_found' });
    if (!taken) throw new ApiError(404, 'not_found', 'no live provisioning socket has this address');
  }
}
