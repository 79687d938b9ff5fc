import { randomBytes } from 'node:crypto';
import { Controller, INestMicroservice, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { busServerStrategy, createBusClient } from './bus.module';

const REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Hundreds of clients connect here; their "Connected to Redis" lines are noise in the test log.
Logger.overrideLogger(['error', 'warn']);

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

  it('fails a request at once with NoBusReceiverError when no service subscribes to its pattern', async () => {
    // Before the fix the request was published to nobody and waited for an answer that never came.
    const client = createBusClient({ namespace: `busspec-${randomBytes(3).toString('hex')}:`, redisUrl: REDIS_URL });
    await client.connect();
    try {
      const bound = new Promise<'no answer'>((resolve) => {
        const t = setTimeout(() => resolve('no answer'), 10_000);
        t.unref();
      });
      const outcome = await Promise.race([
        firstValueFrom(client.send('nobody.answers', { n: 1 })).then(
          () => 'answered',
          (error: unknown) => error,
        ),
        bound,
      ]);
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).name).toBe('NoBusReceiverError');
      expect((outcome as Error).message).toContain('nobody.answers');
      // The client stays usable: the same pattern fails the same way again.
      await expect(firstValueFrom(client.send('nobody.answers', { n: 2 }))).rejects.toMatchObject({ name: 'NoBusReceiverError' });
    } finally {
      await client.close();
    }
  });
});

describe('NamespacedServerRedis with several replicas', () => {
  /** One replica's handlers, counting what it handled. */
  function replicaModule(name: string, handled: Map<string, string[]>) {
    @Controller()
    class CountingController {
      @MessagePattern('spec.take')
      take(@Payload() request: { n: number }) {
        handled.get('requests')!.push(`${name}:${request.n}`);
        return { n: request.n, by: name };
      }

      @EventPattern('spec.announce')
      announce(@Payload() event: { n: number }) {
        handled.get('events')!.push(`${name}:${event.n}`);
      }
    }
    class ReplicaModule {}
    Reflect.defineMetadata('controllers', [CountingController], ReplicaModule);
    return ReplicaModule;
  }

  it('hands each request to exactly one replica and each event to every replica', async () => {
    const namespace = `busspec-${randomBytes(3).toString('hex')}:`;
    const handled = new Map<string, string[]>([
      ['requests', []],
      ['events', []],
    ]);
    const replicas: INestMicroservice[] = [];
    for (const name of ['a', 'b', 'c']) {
      const app = await NestFactory.createMicroservice(replicaModule(name, handled), {
        ...busServerStrategy({ namespace, redisUrl: REDIS_URL }),
        logger: false,
      });
      await app.listen();
      replicas.push(app);
    }
    const client = createBusClient({ namespace, redisUrl: REDIS_URL });
    await client.connect();
    try {
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, n) => firstValueFrom(client.send<{ n: number; by: string }>('spec.take', { n }))),
      );
      expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 60 }, (_, n) => n));
      // Let any late duplicate handling show up before counting.
      await new Promise((r) => setTimeout(r, 200));
      const requests = handled.get('requests')!;
      expect(requests).toHaveLength(60);
      expect(new Set(requests.map((r) => r.split(':')[1])).size).toBe(60);

      await lastValueFrom(client.emit('spec.announce', { n: 1 }), { defaultValue: undefined });
      const deadline = Date.now() + 5000;
      while (handled.get('events')!.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(handled.get('events')!.sort()).toEqual(['a:1', 'b:1', 'c:1']);
    } finally {
      await client.close();
      for (const app of replicas) await app.close();
    }
  });
});
