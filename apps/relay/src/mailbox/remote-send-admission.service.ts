import { Inject, Injectable } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { SERVER_PATTERN } from '@sealpost/contracts';
import { DestinationVerdicts } from '../federation-client/destination-verdicts.service';
import { RELAY_CONFIG } from '../relay.tokens';
import { SendRateLimiter } from './send-rate-limiter.service';

/**
 * What a send to another homeserver is checked for before its message is read or parsed (over
 * HTTP as soon as its headers are read, installRemoteSendAdmission; over the socket before the
 * frame's message is looked at, SocketSends), in this order:
 * - a destination the gateway refused (DestinationVerdicts keeps its refusals) gets that refusal;
 * - a sealed send takes its per-address and per-destination buckets here (`SEALED_REMOTE_RATE_*`,
 *   `REMOTE_DESTINATION_RATE_*`), so MessageIntake does not take them twice; then, for a
 *   destination with no verdict yet, the gateway is asked (DestinationVerdicts.admit): a refused
 *   first send is not parsed either. Identified sends are asked about after their sender is known
 *   (MessageIntake), so no one without an account makes the gateway look up names faster than
 *   the sealed-send buckets allow.
 * A send whose address this cannot place (one that does not parse) is checked by MessageIntake.
 */
@Injectable()
export class RemoteSendAdmission {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly verdicts: DestinationVerdicts,
    private readonly limiter: SendRateLimiter,
  ) {}

  /**
   * Throws the ApiError a send to `address` is refused with before its message is read; true
   * when it is a sealed send to another homeserver whose buckets were taken here.
   */
  async admitEarly(address: unknown, sealed: boolean, clientAddress: string): Promise<boolean> {
    const server = this.remoteServer(address);
    if (!server) return false;
    const refusal = this.verdicts.refusalFor(server);
    if (refusal) throw refusal;
    if (!sealed) return false;
    await this.limiter.admitSealedRemote(clientAddress, server);
    await this.verdicts.admit(server);
    return true;
  }

  /** The server part of a send's address, if it names another homeserver. */
  private remoteServer(address: unknown): string | null {
    if (typeof address !== 'string') return null;
    const server = address.slice(address.lastIndexOf('@') + 1);
    if (server === this.config.serverName || !SERVER_PATTERN.test(server)) return null;
    return server;
  }
}
