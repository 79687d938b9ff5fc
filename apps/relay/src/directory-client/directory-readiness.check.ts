import { Inject, Injectable } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import type { ReadinessCheck } from '@sealpost/http';
import { RELAY_CONFIG } from '../relay.tokens';
import { DirectoryClient } from './directory-client.service';

/**
 * The relay can serve only when the directory answers it over the bus (every send and socket
 * asks it who a token belongs to): /healthz stays 503 until a round trip succeeds, so a relay
 * is never "ready" while its first directory calls would time out.
 */
@Injectable()
export class DirectoryReadinessCheck implements ReadinessCheck {
  readonly name = 'directory';

  constructor(
    private readonly directory: DirectoryClient,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
  ) {}

  ready(): Promise<void> {
    return this.directory.ping(this.config.healthCheckTimeoutMs);
  }
}
