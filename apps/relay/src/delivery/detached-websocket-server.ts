import { WebSocketServer } from 'ws';

/**
 * A `ws` server that owns no HTTP server (the relay's gateways hand it each upgrade they have
 * admitted), keeps no socket list (the relay tracks its own), compresses nothing (a sealed
 * envelope does not compress, and deflate costs memory per socket) and closes a socket whose
 * client sends a frame over `maxPayload` bytes (1009).
 */
export function detachedWebSocketServer(maxPayload: number): WebSocketServer {
  return new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload });
}
