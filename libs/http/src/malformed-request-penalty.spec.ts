import { MalformedRequestPenalty } from './malformed-request-penalty';

describe('MalformedRequestPenalty: an address that keeps sending malformed requests is boxed, then let back in', () => {
  it('boxes after the burst, only that address, and frees it once a token has grown back', () => {
    let now = 0;
    const penalty = new MalformedRequestPenalty({ burst: 3, perSecond: 2 }, undefined, () => now);
    for (let i = 0; i < 2; i++) penalty.charge('10.0.0.1');
    expect(penalty.boxed('10.0.0.1')).toBe(false);
    penalty.charge('10.0.0.1');
    expect(penalty.boxed('10.0.0.1')).toBe(true);
    expect(penalty.boxed('10.0.0.2')).toBe(false);
    now += 400;
    expect(penalty.boxed('10.0.0.1')).toBe(true);
    now += 200;
    expect(penalty.boxed('10.0.0.1')).toBe(false);
  });

  it("never boxes the host's own address", () => {
    const penalty = new MalformedRequestPenalty({ burst: 1, perSecond: 1 });
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      for (let i = 0; i < 5; i++) penalty.charge(address);
      expect(penalty.boxed(address)).toBe(false);
    }
  });
});
