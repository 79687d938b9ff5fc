/** Serialisers for the RFC 8941 §4.1 types this library emits. Invalid input throws a TypeError. */

const MAX_INTEGER = 999_999_999_999_999;
const KEY_PATTERN = /^[a-z*][a-z0-9_\-.*]*$/;

/** RFC 8941 §4.1.4: an Integer, at most 15 digits. */
export function serializeInteger(value: number): string {
  if (!Number.isSafeInteger(value) || Math.abs(value) > MAX_INTEGER) {
    throw new TypeError(`not a structured-field integer: ${String(value)}`);
  }
  return String(value);
}

/** RFC 8941 §4.1.6: a quoted String of printable ASCII with `"` and `\` escaped. */
export function serializeString(value: string): string {
  if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) {
    throw new TypeError('structured-field strings must be printable ASCII');
  }
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** RFC 8941 §4.1.1.3: a dictionary or parameter key. */
export function serializeKey(value: string): string {
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw new TypeError(`not a structured-field key: ${JSON.stringify(value)}`);
  }
  return value;
}

/** RFC 8941 §4.1.8: a Byte Sequence as `:base64:` with padding. */
export function serializeByteSequence(value: Uint8Array): string {
  return `:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}:`;
}

/** Returns true if `value` is a valid dictionary or parameter key. */
export function isStructuredFieldKey(value: unknown): value is string {
  return typeof value === 'string' && KEY_PATTERN.test(value);
}
