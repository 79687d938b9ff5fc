import { ValidationError, rejectUnknownFields } from './validation';

/**
 * Sends over the relay's WebSocket (DESIGN §8): a `send` frame carries what `PUT
 * /v1/messages/{address}` carries (the address, the Idempotency-Key, the body as `message`, and on
 * the unidentified socket the Unidentified-Access-Key); the relay answers each with a
 * `send-result` of the same `requestId`, holding the status and JSON body the HTTP route gives.
 */
/**
 * The largest send frame a relay accepts (bytes of its JSON text): a message of up to 64 KiB plus
 * 2 KiB for the frame's own fields. A larger frame closes the socket (1009) before it is buffered;
 * larger messages go over `PUT /v1/messages/{address}`, whose bodies the relay budgets
 * (HTTP_MAX_BODY_BYTES_IN_FLIGHT) — a frame being received is held per socket, unbudgeted, so it
 * is kept small: 20,000 sockets each mid-frame hold at most 1.3 GB.
 */
export const SEND_FRAME_MAX_BYTES = 66 * 1024;

export interface SendFrame {
  type: 'send';
  /** Chosen by the client, 1..64 characters: pairs the answer (answers may come out of order). */
  requestId: string;
  address: string;
  idempotencyKey?: string;
  /** Only on `/v1/websocket/unidentified`: base64 of the recipient's 16-byte access key. */
  unidentifiedAccessKey?: string;
  /** The body of `PUT /v1/messages/{address}`, as JSON. */
  message: unknown;
}

export interface SendResultFrame {
  type: 'send-result';
  requestId: string;
  status: number;
  /** The JSON body `PUT /v1/messages/{address}` answers with this status. */
  body: unknown;
  /** Seconds, where the HTTP answer has a Retry-After header. */
  retryAfter?: number;
}

export const MAX_REQUEST_ID_CHARS = 64;

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** An Idempotency-Key (the HTTP header, or a send frame's `idempotencyKey`): 1..128 of [A-Za-z0-9._:-]. */
export function parseIdempotencyKey(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value))
    throw new ValidationError(field, 'must be 1..128 characters of [A-Za-z0-9._:-]');
  return value;
}

/** A client frame's `requestId` if an answer can carry it (a string of 1..64 characters), else null. */
export function usableRequestId(value: unknown): string | null {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_REQUEST_ID_CHARS ? value : null;
}

/**
 * The shape of a send frame's own fields: unknown fields are refused, `unidentifiedAccessKey` is
 * taken only where `sealed`, and `address` and `unidentifiedAccessKey` must be strings (as a path
 * segment and a header always are). What HTTP checks in them — the address (MessageIntake), the
 * key (401 when wrong or malformed), `idempotencyKey` (parseIdempotencyKey) and `message`
 * (parseSendMessagesRequest) — is checked by the same code, in the same order, afterwards.
 */
export function parseSendFrameFields(frame: Record<string, unknown>, sealed: boolean): { address: string; unidentifiedAccessKey?: string } {
  if (!sealed && frame.unidentifiedAccessKey !== undefined) {
    throw new ValidationError('unidentifiedAccessKey', 'sealed sends go over /v1/websocket/unidentified; this socket sends as its device');
  }
  rejectUnknownFields(frame, sealed ? SEALED_FIELDS : IDENTIFIED_FIELDS, '');
  if (typeof frame.address !== 'string') throw new ValidationError('address', 'must be an address localpart@server');
  const key = frame.unidentifiedAccessKey;
  if (key !== undefined && typeof key !== 'string') throw new ValidationError('unidentifiedAccessKey', 'must be a string (base64)');
  return { address: frame.address, unidentifiedAccessKey: key };
}

const IDENTIFIED_FIELDS = ['type', 'requestId', 'address', 'idempotencyKey', 'message'] as const;
const SEALED_FIELDS = [...IDENTIFIED_FIELDS, 'unidentifiedAccessKey'] as const;
