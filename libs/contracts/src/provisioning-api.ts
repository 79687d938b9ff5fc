import { ValidationError, rejectUnknownFields, requireObject } from './validation';

/**
 * Linking a device (DESIGN §8): the new device's unauthenticated socket
 * `GET /v1/provisioning/websocket` is given a provisioning address; the primary device puts one
 * sealed message to it with `PUT /v1/provisioning/{address}`. The server sees only the sealed body.
 */

/** A provisioning address: 16 bytes from a CSPRNG (128 bits), base64url without padding. */
export const PROVISIONING_ADDRESS_BYTES = 16;
export const PROVISIONING_ADDRESS_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** First frame on a provisioning socket. */
export interface ProvisioningAddressFrame {
  type: 'provisioning-address';
  address: string;
}

/** The one message a provisioning socket receives; the server then closes it (1000). */
export interface ProvisioningMessageFrame {
  type: 'provisioning-message';
  /** The sealed body as the primary device put it, standard padded base64. */
  body: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The `{address}` path segment: 400 `invalid_request` unless it has the form of an address the relay hands out. */
export function parseProvisioningAddress(value: string): string {
  if (!PROVISIONING_ADDRESS_PATTERN.test(value)) {
    throw new ValidationError('address', 'must be a provisioning address (22 characters of base64url)');
  }
  return value;
}

/** `{"body": base64}`: a body over `maxBytes` decoded is 413 `payload_too_large`; any other problem 400. */
export function parseProvisioningMessageRequest(body: unknown, maxBytes: number): Buffer {
  const obj = requireObject(body, 'body');
  rejectUnknownFields(obj, ['body'], '');
  const text = obj.body;
  if (typeof text !== 'string' || !BASE64.test(text)) throw new ValidationError('body', 'must be standard padded base64');
  // Decoded size = 3/4 of the text less padding: checked before anything is decoded.
  const size = (text.length / 4) * 3 - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
  if (size > maxBytes) throw new ValidationError('body', `must be at most ${maxBytes} bytes`, 413, 'payload_too_large');
  if (size === 0) throw new ValidationError('body', 'must not be empty');
  return Buffer.from(text, 'base64');
}
