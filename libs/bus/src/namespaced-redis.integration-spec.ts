import { firstValueFrom } from 'rxjs';
import { createBusClient } from './bus.module';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('NamespacedClientRedis against a real Redis', () => {
  it('survives being closed while its first connection is still being made', async () => {
    // Before the fix, a `ready` arriving after close() threw an uncaught TypeError inside Nest's
    // listener, which Jest reports as a failure of this test (and which crashed a service on shutdown).
    for (let i = 0; i < 200; i++) {
      const client = createBusClient({ namespace: `race${i}:`, redisUrl: REDIS_URL });
      const connecting = client.connect().catch(() => undefined);
      // Close at varying points of the TCP connection and ready check.
      if (i % 4 === 1) await new Promise((r) => setImmediate(r));
      if (i % 4 === 2) await new Promise((r) => setTimeout(r, 1));
      if (i % 4 === 3) await new Promise((r) => setTimeout(r, Math.random() * 3));
      await expect(client.close()).resolves.toBeUndefined();
      await connecting;
    }
    // Late `ready` events of the closed clients arrive within this pause.
    await new Promise((r) => setTimeout(r, 200));
  });

  it('publishes once connected', async () => {
    const client = createBusClient({ namespace: 'busspec:', redisUrl: REDIS_URL });
    await client.connect();
    // Publishing an event with nobody listening resolves: the client is usable after connect.
    await expect(firstValueFrom(client.emit('nobody.listens', { n: 1 }), { defaultValue: undefined })).resolves.toBeUndefined();
    await client.close();
  });
});
