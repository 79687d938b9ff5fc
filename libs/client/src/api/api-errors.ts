/**
 * One error class per `error` code of docs/API.md, so an application can `instanceof` the answer
 * it cares about. The message is the server's (it never quotes secrets); tokens, keys and message
 * content never go into an error made here.
 */
export class SealpostApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole JSON answer (e.g. `missingDevices`), for callers that need the extra fields. */
    readonly body: Record<string, unknown> = {},
    /** Seconds, from `Retry-After`, when the server gave one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends SealpostApiError {}
export class InvalidJsonError extends SealpostApiError {}
export class MethodNotAllowedError extends SealpostApiError {}
export class RequestTimeoutError extends SealpostApiError {}
export class TooManyRequestsError extends SealpostApiError {}
export class HeadersTooLargeError extends SealpostApiError {}
export class UnavailableError extends SealpostApiError {}
export class UnauthorizedError extends SealpostApiError {}
export class RegistrationTokenRequiredError extends SealpostApiError {}
export class InvalidRegistrationTokenError extends SealpostApiError {}
export class InvalidLinkCodeError extends SealpostApiError {}
export class PrimaryDeviceError extends SealpostApiError {}
export class PrimaryDeviceOnlyError extends SealpostApiError {}
export class NotFoundError extends SealpostApiError {}
export class NotInTreeError extends SealpostApiError {}
export class NoSuchHeadError extends SealpostApiError {}
export class DirectoryUnavailableError extends SealpostApiError {}
export class FederationUnavailableError extends SealpostApiError {}
export class RemoteUnavailableError extends SealpostApiError {}
export class OutcomeUnknownError extends SealpostApiError {}
export class LocalpartTakenError extends SealpostApiError {}
export class TooManyDevicesError extends SealpostApiError {}
export class IdentityKeyChangedError extends SealpostApiError {}
export class PayloadTooLargeError extends SealpostApiError {}
export class UnsupportedMediaTypeError extends SealpostApiError {}
export class InvalidSignatureError extends SealpostApiError {}
export class UnsupportedIdentityKeyError extends SealpostApiError {}
export class RateLimitedError extends SealpostApiError {}
export class RecipientQueueFullError extends SealpostApiError {}
export class OutboxFullError extends SealpostApiError {}
export class TooManyDestinationsError extends SealpostApiError {}
export class UnknownServerError extends SealpostApiError {}
export class BusyError extends SealpostApiError {}
export class ShuttingDownError extends SealpostApiError {}
export class ResolutionBusyError extends SealpostApiError {}

/** 409: the message list did not cover exactly the recipient's devices. */
export class MismatchedDevicesError extends SealpostApiError {
  get missingDevices(): number[] {
    return numbers(this.body.missingDevices);
  }
  get extraDevices(): number[] {
    return numbers(this.body.extraDevices);
  }
}

/** 410: a registration id did not match (the device was re-installed or its identity changed). */
export class StaleDevicesError extends SealpostApiError {
  get staleDevices(): number[] {
    return numbers(this.body.staleDevices);
  }
}

const numbers = (value: unknown): number[] => (Array.isArray(value) ? value.filter((v): v is number => Number.isInteger(v)) : []);

type ErrorClass = new (...args: ConstructorParameters<typeof SealpostApiError>) => SealpostApiError;

const BY_CODE: Record<string, ErrorClass> = {
  invalid_request: InvalidRequestError,
  invalid_json: InvalidJsonError,
  method_not_allowed: MethodNotAllowedError,
  request_timeout: RequestTimeoutError,
  too_many_requests: TooManyRequestsError,
  headers_too_large: HeadersTooLargeError,
  unavailable: UnavailableError,
  unauthorized: UnauthorizedError,
  registration_token_required: RegistrationTokenRequiredError,
  invalid_registration_token: InvalidRegistrationTokenError,
  invalid_link_code: InvalidLinkCodeError,
  primary_device: PrimaryDeviceError,
  primary_device_only: PrimaryDeviceOnlyError,
  not_found: NotFoundError,
  not_in_tree: NotInTreeError,
  no_such_head: NoSuchHeadError,
  directory_unavailable: DirectoryUnavailableError,
  federation_unavailable: FederationUnavailableError,
  remote_unavailable: RemoteUnavailableError,
  outcome_unknown: OutcomeUnknownError,
  localpart_taken: LocalpartTakenError,
  too_many_devices: TooManyDevicesError,
  mismatched_devices: MismatchedDevicesError,
  identity_key_changed: IdentityKeyChangedError,
  stale_devices: StaleDevicesError,
  payload_too_large: PayloadTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  invalid_signature: InvalidSignatureError,
  unsupported_identity_key: UnsupportedIdentityKeyError,
  rate_limited: RateLimitedError,
  recipient_queue_full: RecipientQueueFullError,
  outbox_full: OutboxFullError,
  too_many_destinations: TooManyDestinationsError,
  unknown_server: UnknownServerError,
  busy: BusyError,
  shutting_down: ShuttingDownError,
  resolution_busy: ResolutionBusyError,
};

/** The typed error for a server's `{error, message}` answer; an unknown code keeps the base class. */
export function apiErrorOf(status: number, body: unknown, retryAfter: string | null): SealpostApiError {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = typeof fields.error === 'string' ? fields.error : `http_${status}`;
  const message = typeof fields.message === 'string' ? fields.message : `the server answered ${status}`;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  const Class = BY_CODE[code] ?? SealpostApiError;
  return new Class(status, code, message, fields, seconds);
}
