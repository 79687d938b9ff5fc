import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { BUS_CLIENT } from '@sealpost/bus';
import { BundleResponse, ClaimBundlesReply, FederationPattern, isBusError } from '@sealpost/contracts';
import { ApiError } from '@sealpost/http';

const CLAIM_TIMEOUT_MS = 20_000;

/** Bundles of users on other homeservers, claimed through this homeserver's federation gateway. */
@Injectable()
export class RemoteBundlesClient {
  constructor(@Inject(BUS_CLIENT) private readonly bus: ClientProxy) {}

  async claim(address: string, deviceId: number | '*', requester: string): Promise<BundleResponse> {
    let reply: ClaimBundlesReply;
    try {
      reply = await firstValueFrom(
        this.bus
          .send<ClaimBundlesReply>(FederationPattern.ClaimRemoteBundles, { address, deviceId, requester })
          .pipe(timeout(CLAIM_TIMEOUT_MS)),
      );
    } catch {
      throw new ApiError(503, 'federation_unavailable', 'the federation gateway did not answer; retry later', {}, { 'retry-after': '1' });
    }
    if (isBusError(reply)) throw new ApiError(reply.status, reply.error, reply.message);
    return reply;
  }
}
