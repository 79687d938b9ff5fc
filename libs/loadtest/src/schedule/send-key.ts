/**
 * Which send an envelope belongs to, readable by the RECEIVING worker although the envelope is
 * sealed (the server and the receiver without its keys see only ciphertext): every send request
 * carries a unique `timestamp`, which the relay stores as the envelope's `clientTimestamp` and
 * passes on unchanged, also across federation (docs/API.md). It packs this run's tag, the
 * sending worker and the worker's send sequence number into 53 bits (a safe integer):
 *
 *   timestamp = runTag · 2⁴³ + worker · 2³⁶ + seq      (runTag < 2¹⁰, worker < 2⁷, seq < 2³⁶)
 *
 * so a pooled envelope whose bytes are sent many times is still told apart send by send.
 * Envelopes of other runs (an earlier run's leftovers) carry another tag and are counted foreign.
 */
export const MAX_WORKERS = 128;
export const MAX_SEQ = 2 ** 36;
const RUN_TAGS = 2 ** 10;
const WORKER_UNIT = 2 ** 36;
const TAG_UNIT = 2 ** 43;

export interface SendKey {
  worker: number;
  seq: number;
}

/** A tag for a new run, never 0 (0 would make small timestamps of other clients look like ours). */
export function newRunTag(): number {
  return 1 + Math.floor(Math.random() * (RUN_TAGS - 1));
}

export function encodeSendKey(runTag: number, worker: number, seq: number): number {
  if (seq >= MAX_SEQ || worker >= MAX_WORKERS) throw new RangeError('send key out of range');
  return runTag * TAG_UNIT + worker * WORKER_UNIT + seq;
}

/** The send of this run a timestamp names, or undefined for any other timestamp. */
export function decodeSendKey(runTag: number, timestamp: number): SendKey | undefined {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) return undefined;
  if (Math.floor(timestamp / TAG_UNIT) !== runTag) return undefined;
  const rest = timestamp - runTag * TAG_UNIT;
  return { worker: Math.floor(rest / WORKER_UNIT), seq: rest % WORKER_UNIT };
}
