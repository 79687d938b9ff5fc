import Redis from 'ioredis';

/** Listens to one event channel of a homeserver's bus (raw Redis pub/sub) and collects the payloads. */
export async function listenToBusEvent<T>(
  redisUrl: string,
  namespace: string,
  pattern: string,
): Promise<{ events: T[]; close(): Promise<void> }> {
  const sub = new Redis(redisUrl);
  const events: T[] = [];
  sub.on('message', (_channel: string, message: string) => {
    events.push((JSON.parse(message) as { data: T }).data);
  });
  await sub.subscribe(`${namespace}bus:${pattern}`);
  return {
    events,
    close: async () => {
      await sub.quit();
    },
  };
}

/** Polls until `predicate` holds; for asynchronous effects, instead of a fixed sleep. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
