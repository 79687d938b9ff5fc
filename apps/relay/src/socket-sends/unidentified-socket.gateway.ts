import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RelayConfig } from '@sealpost/config';
import { ApiError, UNAVAILABLE_RETRY_AFTER_SECONDS, answerOnSocket } from '@sealpost/http';
import { detachedWebSocketServer } from '../delivery/detached-websocket-server';
import { upgradeClientAddress } from '../delivery/upgrade-client-address';
import { handshakeProblem } from '../delivery/websocket-handshake';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';
import { sendFrameMaxBytes } from './sending-socket';
import { UnidentifiedSockets } from './unidentified-sockets.service';
import { UnidentifiedUpgradeLimiter } from './unidentified-upgrade-limiter.service';

export const UNIDENTIFIED_WEBSOCKET_PATH = '/v1/websocket/unidentified';

/**
 * `GET /v1/websocket/unidentified`: no authentication (an Authorization header is ignored). The
 * upgrade is admitted per client address (token bucket, UNIDENTIFIED_SOCKET_RATE_*) and per
 * replica (UNIDENTIFIED_MAX_SOCKETS) before the handshake completes; a refusal is a plain HTTP
 * answer with the API's JSON error body. The socket then carries sealed sends (UnidentifiedSockets).
 */
@Injectable()
export class UnidentifiedSocketGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(UnidentifiedSocketGateway.name);
  private readonly server;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly limiter: UnidentifiedUpgradeLimiter,
    private readonly sockets: UnidentifiedSockets,
    private readonly metrics: RelayMetrics,
  ) {
    this.server = detachedWebSocketServer(sendFrameMaxBytes(config.maxBodyBytes));
  }

  onApplicationShutdown(): void {
    this.server.close();
  }

  /** Handles an upgrade to UNIDENTIFIED_WEBSOCKET_PATH (the caller matched the path). */
  async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      await this.admitAndUpgrade(request, socket, head);
    } catch (error) {
      this.logger.error(`unidentified socket upgrade failed: ${(error as Error).message}`);
      refuse(socket, 503, 'unavailable', 'the socket could not be opened; retry later', RETRY_LATER);
    }
  }

  private async admitAndUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const problem = handshakeProblem(request);
    if (problem) return refuse(socket, problem.status, problem.error, problem.message, problem.headers);
    if (this.sockets.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    const clientAddress = upgradeClientAddress(request, this.config.trustProxy);
    try {
      await this.limiter.admit(clientAddress);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const body = error.getResponse() as { error: string; message: string };
      return refuse(socket, error.getStatus(), body.error, body.message, error.headers);
    }
    if (this.sockets.size >= this.config.unidentifiedSockets.maxSockets) {
      this.metrics.unidentifiedUpgrades.inc({ outcome: 'full' });
      return refuse(socket, 503, 'unavailable', 'this relay holds too many unidentified sockets; retry later', RETRY_LATER);
    }
    if (this.sockets.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    this.server.handleUpgrade(request, socket, head, (ws) => {
      this.metrics.unidentifiedUpgrades.inc({ outcome: 'opened' });
      this.sockets.open(ws, clientAddress);
    });
  }
}

const RETRY_LATER = { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) };

function refuse(socket: Duplex, status: number, error: string, message: string, headers?: Record<string, string>): void {
  answerOnSocket(socket, status, { error, message }, { headers });
}
