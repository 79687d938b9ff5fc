import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RelayConfig } from '@sealpost/config';
import { answerOnSocket, chargeMalformedRequest } from '@sealpost/http';
import { DirectoryClient } from '../directory-client/directory-client.service';
import { deviceFromAuthorization } from '../directory-client/relay-auth.guard';
import { PROVISIONING_WEBSOCKET_PATH, ProvisioningGateway } from '../provisioning/provisioning.gateway';
import { RELAY_CONFIG } from '../relay.tokens';
import { sendFrameMaxBytes } from '../socket-sends/sending-socket';
import { SocketSends } from '../socket-sends/socket-sends.service';
import { UNIDENTIFIED_WEBSOCKET_PATH, UnidentifiedSocketGateway } from '../socket-sends/unidentified-socket.gateway';
import { ConnectionRegistry } from './connection-registry.service';
import { handshakeProblem } from './websocket-handshake';
import { detachedWebSocketServer } from './detached-websocket-server';
import { upgradeClientAddress } from './upgrade-client-address';

const WEBSOCKET_PATH = '/v1/websocket';
const UPGRADE_PATHS = new Set([WEBSOCKET_PATH, PROVISIONING_WEBSOCKET_PATH, UNIDENTIFIED_WEBSOCKET_PATH]);

/**
 * Every WebSocket upgrade of the relay: `/v1/provisioning/websocket` goes to ProvisioningGateway,
 * `/v1/websocket/unidentified` (sealed sends) to UnidentifiedSocketGateway; `GET /v1/websocket`
 * upgrades, authenticated by `Authorization: Bearer <token>` before the handshake completes; a
 * refused or malformed upgrade gets a plain HTTP answer with the API's JSON error body (malformed
 * ones are checked here, before `ws` could answer them in text/html). A device socket takes acks
 * and send frames (SocketSends) up to sendFrameMaxBytes; a larger frame closes it (1009).
 */
@Injectable()
export class WebSocketGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(WebSocketGateway.name);
  private readonly server;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly directory: DirectoryClient,
    private readonly registry: ConnectionRegistry,
    private readonly provisioning: ProvisioningGateway,
    private readonly unidentified: UnidentifiedSocketGateway,
    sends: SocketSends,
  ) {
    this.server = detachedWebSocketServer(sendFrameMaxBytes(config.maxBodyBytes));
    registry.takeSendFramesWith(sends);
  }

  attach(httpServer: Server): void {
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // No client that follows the API sends these: charged to the address's malformed-request penalty box.
      const path = (request.url ?? '').split('?')[0];
      if (!UPGRADE_PATHS.has(path) || handshakeProblem(request)) chargeMalformedRequest(httpServer, request.socket.remoteAddress);
      void this.upgrade(request, socket, head);
    });
  }

  onApplicationShutdown(): void {
    this.server.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const path = (request.url ?? '').split('?')[0];
    if (path === PROVISIONING_WEBSOCKET_PATH) return this.provisioning.upgrade(request, socket, head);
    if (path === UNIDENTIFIED_WEBSOCKET_PATH) return this.unidentified.upgrade(request, socket, head);
    if (path !== WEBSOCKET_PATH) return refuse(socket, 404, 'not_found', 'no such route');
    const problem = handshakeProblem(request);
    if (problem) return refuse(socket, problem.status, problem.error, problem.message, problem.headers);
    if (this.registry.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    let device;
    try {
      device = await deviceFromAuthorization(request.headers.authorization, this.directory);
    } catch {
      return refuse(socket, 503, 'directory_unavailable', 'the prekey directory did not answer; retry later');
    }
    if (!device || device === 'invalid') return refuse(socket, 401, 'unauthorized', 'a valid device token is required');
    const authenticated = device;
    const clientAddress = upgradeClientAddress(request, this.config.trustProxy);
    if (this.registry.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    this.server.handleUpgrade(request, socket, head, (ws) => {
      try {
        this.registry.open(ws, authenticated, clientAddress);
      } catch (error) {
        this.logger.warn(`could not open socket: ${(error as Error).message}`);
        ws.terminate();
      }
    });
  }
}

function refuse(socket: Duplex, status: number, error: string, message: string, headers?: Record<string, string>): void {
  answerOnSocket(socket, status, { error, message }, { headers });
}
