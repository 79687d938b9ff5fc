import { RequestsPerClient } from './requests-per-client';

describe('RequestsPerClient.tryTake (requests that reach a service outside Fastify)', () => {
  it('admits up to `max` per address, refuses the next (counted), and frees a slot once per release', () => {
    let refused = 0;
    const perClient = new RequestsPerClient(2, () => refused++);
    const first = perClient.tryTake('192.0.2.1');
    const second = perClient.tryTake('192.0.2.1');
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(perClient.tryTake('192.0.2.1')).toBeNull();
    expect(refused).toBe(1);
    // Another address has its own slots.
    expect(perClient.tryTake('192.0.2.2')).not.toBeNull();
    first!();
    first!();
    expect(perClient.count('192.0.2.1')).toBe(1);
    expect(perClient.tryTake('192.0.2.1')).not.toBeNull();
    expect(perClient.tryTake('192.0.2.1')).toBeNull();
    expect(refused).toBe(2);
  });

  it('forgets an address once its last request is released', () => {
    const perClient = new RequestsPerClient(1);
    const release = perClient.tryTake('192.0.2.9')!;
    expect(perClient.clients).toBe(1);
    release();
    expect(perClient.clients).toBe(0);
  });
});
