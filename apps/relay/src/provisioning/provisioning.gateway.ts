import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import Redis from 'ioredis';
import { PROVISIONING_ADDRESS_BYTES } from '@sealpost/contracts';
import type { RelayConfig } from '@sealpost/config';
import { ApiError, UNAVAILABLE_RETRY_AFTER_SECONDS, answerOnSocket } from '@sealpost/http';
import { REDIS, promptly } from '@sealpost/redis';
import { handshakeProblem } from '../delivery/websocket-handshake';
import { upgradeClientAddress } from '../delivery/upgrade-client-address';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG, RELAY_INSTANCE_ID } from '../relay.tokens';
import { ProvisioningDelivery } from './provisioning-delivery.service';
import { ProvisioningRateLimiter } from './provisioning-rate-limiter.service';
import { ProvisioningRoutes } from './provisioning-routes.scripts';
import { ProvisioningSockets } from './provisioning-sockets.service';
import { detachedWebSocketServer } from '../delivery/detached-websocket-server';

export const PROVISIONING_WEBSOCKET_PATH = '/v1/provisioning/websocket';
/** A provisioning socket takes no frames but ping and close: anything bigger than this closes it (1009). */
const MAX_CLIENT_FRAME_BYTES = 4 * 1024;

/**
 * `GET /v1/provisioning/websocket`: no authentication. The upgrade is admitted per client address
 * (token bucket) and per replica (PROVISIONING_MAX_SOCKETS); then a fresh address is drawn
 * (128 bits from the CSPRNG), its route claimed in Redis under its pseudonym, and only then is the
 * upgrade completed, so every address a device is told is reachable from every replica. A refusal
 * is a plain HTTP answer with the API's JSON error body.
 */
@Injectable()
export class ProvisioningGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(ProvisioningGateway.name);
  private readonly server = detachedWebSocketServer(MAX_CLIENT_FRAME_BYTES);

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    @Inject(RELAY_INSTANCE_ID) private readonly instanceId: string,
    private readonly limiter: ProvisioningRateLimiter,
    private readonly routes: ProvisioningRoutes,
    private readonly sockets: ProvisioningSockets,
    private readonly delivery: ProvisioningDelivery,
    private readonly metrics: RelayMetrics,
  ) {}

  onApplicationShutdown(): void {
    this.server.close();
  }

  /** Handles an upgrade to PROVISIONING_WEBSOCKET_PATH (the caller matched the path). */
  async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      await this.admitAndUpgrade(request, socket, head);
    } catch (error) {
      this.logger.error(`provisioning upgrade failed: ${(error as Error).message}`);
      refuse(socket, 503, 'unavailable', 'the provisioning socket could not be opened; retry later', RETRY_LATER);
    }
  }

  private async admitAndUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const problem = handshakeProblem(request);
    if (problem) return refuse(socket, problem.status, problem.error, problem.message, problem.headers);
    if (this.sockets.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    try {
      await this.limiter.admitSocket(upgradeClientAddress(request, this.config.trustProxy));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const body = error.getResponse() as { error: string; message: string };
      return refuse(socket, error.getStatus(), body.error, body.message, error.headers);
    }
    if (this.sockets.size >= this.config.provisioning.maxSockets) {
      this.metrics.provisioningUpgrades.inc({ outcome: 'full' });
      return refuse(socket, 503, 'unavailable', 'this relay holds too many provisioning sockets; retry later', RETRY_LATER);
    }
    const address = randomBytes(PROVISIONING_ADDRESS_BYTES).toString('base64url');
    const pseudonym = this.delivery.pseudonymOf(address);
    try {
      const ttlMs = this.config.provisioning.ttlSeconds * 1000;
      await promptly(this.redis, () => this.routes.claim(pseudonym, this.instanceId, ttlMs));
    } catch {
      this.metrics.provisioningUpgrades.inc({ outcome: 'unavailable' });
      return refuse(socket, 503, 'unavailable', 'a backing service is unavailable; retry later', RETRY_LATER);
    }
    if (this.sockets.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    // If the client is gone by now, ws destroys the socket without calling back: the route is left
    // to expire, and a PUT to it finds no socket here (404).
    this.server.handleUpgrade(request, socket, head, (ws) => {
      this.metrics.provisioningUpgrades.inc({ outcome: 'opened' });
      this.sockets.open(ws, address, pseudonym);
    });
  }
}

const RETRY_LATER = { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) };

function refuse(socket: Duplex, status: number, error: string, message: string, headers?: Record<string, string>): void {
  answerOnSocket(socket, status, { error, message }, { headers });
}
