import type Redis from 'ioredis';

const RELEASE_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Extends our claim, or makes it again when the key is gone (TTL, Redis restart); 0 when another
// connection has claimed the device since: ours is the older one.
const REFRESH_IF_MINE = `local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 end
return 0`;
const WAKE_HOLDER = `local holder = redis.call('GET', KEYS[1])
if holder then redis.call('PUBLISH', ARGV[1] .. string.match(holder, '^[^/]+'), ARGV[2]) end
return holder`;

type WithPresence = Redis & {
  sealpostReleasePresence(key: string, holder: string): Promise<number>;
  sealpostWakeHolder(key: string, channelPrefix: string, message: string): Promise<string | null>;
};

/** Who holds a device's socket: a relay instance and one connection on it. */
export interface PresenceHolder {
  instanceId: string;
  connectionId: string;
}

export function presenceValue(holder: PresenceHolder): string {
  return `${holder.instanceId}/${holder.connectionId}`;
}

function parseHolder(value: string | null): PresenceHolder | null {
  const [instanceId, connectionId] = (value ?? '').split('/');
  return instanceId && connectionId ? { instanceId, connectionId } : null;
}

/**
 * Presence: which connection holds a device's socket, as `{prefix}presence:{accountId}:deviceId`
 * → `instanceId/connectionId`, with a TTL refreshed while the socket lives. The order of claims
 * decides which of two connections is newer (not their clocks), and a kick names the exact
 * connection it displaces. Wake-ups are routed to the holder's instance channel in one atomic
 * script. Keys and values hold random ids only.
 */
export class PresenceScripts {
  private readonly redis: WithPresence;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('sealpostReleasePresence', { numberOfKeys: 1, lua: RELEASE_IF_MINE });
    redis.defineCommand('sealpostWakeHolder', { numberOfKeys: 1, lua: WAKE_HOLDER });
    redis.defineCommand('sealpostRefreshPresence', { numberOfKeys: 1, lua: REFRESH_IF_MINE });
    this.redis = redis as WithPresence;
  }

  key(accountId: string, deviceId: number): string {
    return `${this.prefix}presence:{${accountId}}:${deviceId}`;
  }

  instanceChannel(instanceId: string): string {
    return `${this.prefix}relay:instance:${instanceId}`;
  }

  /** Makes `holder` the device's holder; returns the holder it displaced, if any. */
  async claim(accountId: string, deviceId: number, holder: PresenceHolder, ttlSeconds: number): Promise<PresenceHolder | null> {
    return parseHolder(await this.redis.set(this.key(accountId, deviceId), presenceValue(holder), 'EX', ttlSeconds, 'GET'));
  }

  async release(accountId: string, deviceId: number, holder: PresenceHolder): Promise<void> {
    await this.redis.sealpostReleasePresence(this.key(accountId, deviceId), presenceValue(holder));
  }

  /**
   * Extends each claim (or makes it again after Redis lost it); returns the devices whose claim
   * another, newer connection has taken meanwhile.
   */
  async refresh<C extends { accountId: string; deviceId: number; holder: PresenceHolder }>(claims: C[], ttlSeconds: number): Promise<C[]> {
    if (claims.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as {
      sealpostRefreshPresence(k: string, v: string, ttl: number): void;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const c of claims) pipeline.sealpostRefreshPresence(this.key(c.accountId, c.deviceId), presenceValue(c.holder), ttlSeconds);
    const results = (await pipeline.exec()) ?? [];
    return claims.filter((_, i) => results[i]?.[0] === null && results[i]?.[1] === 0);
  }

  /** Publishes `message` to the holder of each device, in one round trip. */
  async wakeHolders(
    devices: { accountId: string; deviceId: number }[],
    message: (d: { accountId: string; deviceId: number }) => string,
  ): Promise<void> {
    const pipeline = this.redis.pipeline() as unknown as {
      sealpostWakeHolder(k: string, c: string, m: string): void;
      exec(): Promise<unknown>;
    };
    for (const d of devices) pipeline.sealpostWakeHolder(this.key(d.accountId, d.deviceId), `${this.prefix}relay:instance:`, message(d));
    await pipeline.exec();
  }

  async publish(instanceId: string, message: string): Promise<void> {
    await this.redis.publish(this.instanceChannel(instanceId), message);
  }
}
