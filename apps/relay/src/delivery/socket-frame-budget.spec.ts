import { SocketFrameBudget } from './socket-frame-budget';

describe('SocketFrameBudget', () => {
  it('refuses frames past the burst while no time passes and nothing was sent', () => {
    const budget = new SocketFrameBudget(3, 1, () => 0);
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
  });

  it('lets a client ack a backlog larger than the burst one envelope per frame', () => {
    const budget = new SocketFrameBudget(3, 1, () => 0);
    for (let i = 0; i < 1000; i++) budget.earn();
    const taken = Array.from({ length: 1003 }, () => budget.take());
    expect(taken.every(Boolean)).toBe(true);
    expect(budget.take()).toBe(false);
  });

  it('refills at the rate up to the burst, never past it', () => {
    let now = 0;
    const budget = new SocketFrameBudget(2, 10, () => now);
    budget.take();
    budget.take();
    now = 10_000;
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
  });
});
