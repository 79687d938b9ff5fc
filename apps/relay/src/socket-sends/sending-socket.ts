import type WebSocket from 'ws';
import { SEND_FRAME_MAX_BYTES, type AuthenticatedDevice } from '@sealpost/contracts';

/**
 * A send frame without a usable `requestId` (a string of 1..64 characters), or with one that is
 * already in flight on the socket: no answer could be paired with it, so the socket is closed.
 * Sends already in flight on it still complete (stored or not, as they would be answered); the
 * client retries them with their Idempotency-Key.
 */
export const CLOSE_BAD_SEND_FRAME = 4400;

/** A socket that takes send frames: a device's `/v1/websocket`, or a `/v1/websocket/unidentified`. */
export interface SendingSocket {
  readonly socket: WebSocket;
  /** The socket's device (its sends are identified); null on an unidentified socket (sealed sends only). */
  readonly sender: AuthenticatedDevice | null;
  /** The client's address at the upgrade (TRUST_PROXY applied), as `request.ip` would be over HTTP. */
  readonly clientAddress: string;
  /** The requestIds of this socket's sends in flight; made on its first send (an idle socket holds none). */
  sendsInFlight?: Set<string>;
}

/** Takes a socket's send frames (SocketSends). */
export interface SendFrameHandler {
  take(from: SendingSocket, frame: Record<string, unknown>): void;
}

/** A client's text frame as a JSON object; null for a binary frame, text that is not JSON, or JSON that is not an object. */
export function clientFrameOf(data: Buffer, isBinary: boolean): Record<string, unknown> | null {
  if (isBinary) return null;
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** Room in a send frame for its own fields (`type`, `requestId`, `address`, `idempotencyKey`, `unidentifiedAccessKey`). */
const SEND_FRAME_FIELDS_BYTES = 2048;

/**
 * The largest frame a socket that takes sends accepts (ws `maxPayload`; a larger one closes the
 * socket with 1009 before it is buffered whole): the HTTP body cap, RELAY_MAX_BODY_BYTES, plus
 * room for the frame's own fields, but never more than SEND_FRAME_MAX_BYTES (larger messages go
 * over HTTP, where the bytes being received are budgeted per process).
 */
export function sendFrameMaxBytes(maxBodyBytes: number): number {
  return Math.min(maxBodyBytes + SEND_FRAME_FIELDS_BYTES, SEND_FRAME_MAX_BYTES);
}
