import { MAX_SEQ, MAX_WORKERS, decodeSendKey, encodeSendKey, newRunTag } from './send-key';

describe('send keys: which send an envelope belongs to, through the relay-carried timestamp', () => {
  it('round-trips run tag, worker and seq inside a safe integer', () => {
    for (const [tag, worker, seq] of [
      [1, 0, 0],
      [1023, MAX_WORKERS - 1, MAX_SEQ - 1],
      [517, 3, 123_456_789],
    ]) {
      const key = encodeSendKey(tag, worker, seq);
      expect(Number.isSafeInteger(key)).toBe(true);
      expect(decodeSendKey(tag, key)).toEqual({ worker, seq });
    }
  });

  it('gives two sends of the same pooled envelope different keys', () => {
    expect(encodeSendKey(9, 1, 10)).not.toBe(encodeSendKey(9, 1, 11));
    expect(encodeSendKey(9, 1, 10)).not.toBe(encodeSendKey(9, 2, 10));
  });

  it("does not take another run's or another client's timestamp for one of this run's sends", () => {
    expect(decodeSendKey(5, encodeSendKey(6, 0, 1))).toBeUndefined();
    expect(decodeSendKey(5, Date.now())).toBeUndefined();
    expect(decodeSendKey(5, -1)).toBeUndefined();
    expect(decodeSendKey(5, 1.5)).toBeUndefined();
  });

  it('draws run tags that are never 0', () => {
    for (let i = 0; i < 1000; i++) expect(newRunTag()).toBeGreaterThan(0);
  });
});
