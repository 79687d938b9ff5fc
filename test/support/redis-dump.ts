import Redis from 'ioredis';

export interface DumpedKey {
  key: string;
  values: Buffer[];
}

/** Every key matching `pattern` (SCAN, never KEYS), with its name and every stored byte string. */
export async function dumpKeys(redis: Redis, pattern: string): Promise<DumpedKey[]> {
  const out: DumpedKey[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let values: Buffer[] = [];
      if (type === 'string') values = [await redis.getBuffer(key)].filter((v): v is Buffer => v !== null);
      else if (type === 'hash')
        values = await redis.hgetallBuffer(key).then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f), v]));
      else if (type === 'list') values = await redis.lrangeBuffer(key, 0, -1);
      else if (type === 'set') values = await redis.smembersBuffer(key);
      else if (type === 'zset') values = await redis.zrangeBuffer(key, '0', '-1');
      else if (type === 'stream') {
        const entries = (await redis.xrangeBuffer(key, '-', '+')) as unknown as [Buffer, Buffer[]][];
        values = entries.flatMap(([, fields]) => fields);
      }
      out.push({ key, values });
    }
  } while (cursor !== '0');
  return out;
}

/** Every key of one homeserver: `{prefix}…` and the hash-tagged `{{prefix}…}` BullMQ keys. */
export async function dumpHomeserverKeys(redis: Redis, prefix: string): Promise<DumpedKey[]> {
  return [...(await dumpKeys(redis, `${prefix}*`)), ...(await dumpKeys(redis, `{${prefix}*`))];
}
