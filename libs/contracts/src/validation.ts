/**
 * Small, explicit request validation: every parser names the exact field that is wrong.
 * Thrown errors become 400 {error: "invalid_request", message} at the HTTP edge.
 */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    detail: string,
    readonly status: 400 | 413 | 422 = 400,
    readonly code = 'invalid_request',
  ) {
    super(`${field}: ${detail}`);
    this.name = 'ValidationError';
  }
}

type Obj = Record<string, unknown>;

export function requireObject(value: unknown, field: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, 'must be a JSON object');
  }
  return value as Obj;
}

export function rejectUnknownFields(obj: Obj, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ValidationError(field ? `${field}.${key}` : key, 'is not a known field');
  }
}

export function requireInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `must be an integer in ${min}..${max}`);
  }
  return value;
}

export function requireBool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, 'must be true or false');
  return value;
}

export function requireString(value: unknown, field: string, pattern: RegExp, describe: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new ValidationError(field, `must be ${describe}`);
  return value;
}

export function requireArray(value: unknown, field: string, maxItems: number): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array');
  if (value.length > maxItems) throw new ValidationError(field, `must have at most ${maxItems} items`);
  return value;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64 (RFC 4648 §4), decoded, with byte-length bounds. */
export function requireBase64(value: unknown, field: string, minBytes: number, maxBytes: number): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new ValidationError(field, 'must be standard padded base64');
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < minBytes || bytes.length > maxBytes) {
    const range = minBytes === maxBytes ? `${minBytes}` : `${minBytes}..${maxBytes}`;
    throw new ValidationError(field, `must decode to ${range} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function optional<T>(value: unknown, parse: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : parse(value);
}
