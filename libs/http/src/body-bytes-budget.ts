import { SMALL_BODY_MAX_BYTES } from '@sealpost/config';

/**
 * The request-body bytes one process is receiving at once (HTTP_MAX_BODY_BYTES_IN_FLIGHT), all
 * clients together. A small body (at most SMALL_BODY_MAX_BYTES in all) may take bytes up to the
 * whole budget; a larger one only while the total stays within `largeShare`, so however many large
 * bodies are held, `total - largeShare` bytes are always left for small ones. Never goes below 0
 * nor above `total`; the caller gives back exactly what it took.
 */
export class BodyBytesBudget {
  private held = 0;

  constructor(
    readonly total: number,
    readonly largeShare: number,
  ) {}

  /** Bytes taken now (the `sealpost_http_body_bytes_in_flight` gauge). */
  get inFlight(): number {
    return this.held;
  }

  /** Takes `bytes` for a body that will then have taken `bodyBytes` in all; false (nothing taken) if they do not fit. */
  tryTake(bytes: number, bodyBytes: number): boolean {
    const ceiling = bodyBytes <= SMALL_BODY_MAX_BYTES ? this.total : this.largeShare;
    if (this.held + bytes > ceiling) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
