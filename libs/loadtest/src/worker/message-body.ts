/**
 * The plaintext of a load-test message: a 16-byte header naming the run, the sending worker,
 * the pool slot and the sending device, then filler bytes derived from the header. A `--verify`
 * run checks every decrypted message against it: right run, right send, right sender, filler intact.
 *
 *   0..1 magic "LT" · 2 worker · 3 zero · 4..7 slot · 8..11 sender device index · 12..13 run tag · 14..15 zero
 */
const MAGIC = 0x4c54;
export const BODY_HEADER_BYTES = 16;

export interface BodyIdentity {
  runTag: number;
  worker: number;
  slot: number;
  sender: number;
}

const fillerByte = (id: BodyIdentity, i: number) => (id.slot + i * 7 + id.worker * 13) & 0xff;

export function messageBody(id: BodyIdentity, size: number): Uint8Array {
  const body = Buffer.alloc(Math.max(BODY_HEADER_BYTES, size));
  body.writeUInt16BE(MAGIC, 0);
  body.writeUInt8(id.worker, 2);
  body.writeUInt32BE(id.slot >>> 0, 4);
  body.writeUInt32BE(id.sender >>> 0, 8);
  body.writeUInt16BE(id.runTag, 12);
  for (let i = BODY_HEADER_BYTES; i < body.length; i++) body[i] = fillerByte(id, i);
  return body;
}

/**
 * Why a decrypted body is not the one sealed for send (`runTag`, `worker`, `slot`), or the
 * sending device index it names when it is.
 */
export function readBody(
  body: Uint8Array,
  expected: Omit<BodyIdentity, 'sender'>,
  size: { min: number; max: number },
): { sender: number } | { mismatch: string } {
  const bytes = Buffer.from(body);
  if (bytes.length < BODY_HEADER_BYTES || bytes.readUInt16BE(0) !== MAGIC) return { mismatch: 'not a load-test message' };
  const found: BodyIdentity = {
    worker: bytes.readUInt8(2),
    slot: bytes.readUInt32BE(4),
    sender: bytes.readUInt32BE(8),
    runTag: bytes.readUInt16BE(12),
  };
  if (found.runTag !== expected.runTag || found.worker !== expected.worker || found.slot !== expected.slot)
    return { mismatch: 'another send' };
  if (bytes.length < Math.max(BODY_HEADER_BYTES, size.min) || bytes.length > Math.max(BODY_HEADER_BYTES, size.max))
    return { mismatch: 'size' };
  for (let i = BODY_HEADER_BYTES; i < bytes.length; i++) if (bytes[i] !== fillerByte(found, i)) return { mismatch: 'content' };
  return { sender: found.sender };
}
