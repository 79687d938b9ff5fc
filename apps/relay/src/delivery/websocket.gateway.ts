import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { DirectoryClient } from '../directory-client/directory-client.service';
import { deviceFromAuthorization } from '../directory-client/relay-auth.guard';
import { ConnectionRegistry } from './connection-registry.service';

const WEBSOCKET_PATH = '/v1/websocket';
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/**
 * `GET /v1/websocket` upgrades, authenticated by `Authorization: Bearer <token>` before the
 * handshake completes; a refused upgrade gets a plain HTTP answer with the API's JSON error body.
 */
@Injectable()
export class WebSocketGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(WebSocketGateway.name);
  private readonly server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
  });

  constructor(
    private readonly directory: DirectoryClient,
    private readonly registry: ConnectionRegistry,
  ) {}

  attach(httpServer: Server): void {
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(request, socket, head));
  }

  onApplicationShutdown(): void {
    this.server.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    if ((request.url ?? '').split('?')[0] !== WEBSOCKET_PATH) return refuse(socket, 404, 'not_found', 'no such route');
    if (this.registry.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    let device;
    try {
      device = await deviceFromAuthorization(request.headers.authorization, this.directory);
    } catch {
      return refuse(socket, 503, 'directory_unavailable', 'the prekey directory did not answer; retry later');
    }
    if (!device || device === 'invalid') return refuse(socket, 401, 'unauthorized', 'a valid device token is required');
    const authenticated = device;
    if (this.registry.isClosing) return refuse(socket, 503, 'shutting_down', 'this relay is shutting down; reconnect');
    this.server.handleUpgrade(request, socket, head, (ws) => {
      try {
        this.registry.open(ws, authenticated);
      } catch (error) {
        this.logger.warn(`could not open socket: ${(error as Error).message}`);
        ws.terminate();
      }
    });
  }
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
