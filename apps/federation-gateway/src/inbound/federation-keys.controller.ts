import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { BUS_CLIENT } from '@sealpost/bus';
import { BundleResponse, ClaimBundlesReply, DirectoryPattern, parseAddress, parseDeviceSelector } from '@sealpost/contracts';
import { busAnswer } from './bus-answer';
import { FederationOrigin } from './federation-auth.guard';
import { SignedFederationRoute } from './federation-body';

/** A peer claims bundles of a user of this server: same shape, same atomic take as the client call. */
@Controller('federation/v1')
export class FederationKeysController {
  constructor(@Inject(BUS_CLIENT) private readonly bus: ClientProxy) {}

  @Get('keys/:address/:deviceId')
  @SignedFederationRoute()
  claim(
    @FederationOrigin() origin: string,
    @Param('address') address: string,
    @Param('deviceId') deviceId: string,
  ): Promise<BundleResponse> {
    parseAddress(address);
    const selector = parseDeviceSelector(deviceId);
    return busAnswer(
      this.bus.send<ClaimBundlesReply>(DirectoryPattern.ClaimBundles, { address, deviceId: selector, requester: origin }),
      'directory',
    ) as Promise<BundleResponse>;
  }

  /** A signed no-op, for `federation ping`: proves both sides agree on keys and signatures. */
  @Get('ping')
  @SignedFederationRoute()
  ping(@FederationOrigin() origin: string): { ok: true; origin: string } {
    return { ok: true, origin };
  }
}
