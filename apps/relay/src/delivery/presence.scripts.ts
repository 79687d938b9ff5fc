import type Redis from 'ioredis';

const RELEASE_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const WAKE_HOLDER = `local holder = redis.call('GET', KEYS[1])
if holder then redis.call('PUBLISH', ARGV[1] .. holder, ARGV[2]) end
return holder`;

type WithPresence = Redis & {
  sealpostReleasePresence(key: string, instanceId: string): Promise<number>;
  sealpostWakeHolder(key: string, channelPrefix: string, message: string): Promise<string | null>;
};

/**
 * Presence: which relay instance holds a device's socket, as `{prefix}presence:{accountId}:deviceId`
 * → instance id, with a TTL refreshed while the socket lives. Wake-ups are routed to that
 * instance's channel in one atomic script. Keys hold ids only.
 */
export class PresenceScripts {
  private readonly redis: WithPresence;

  constructor(redis: Redis, private readonly prefix: string) {
    redis.defineCommand('sealpostReleasePresence', { numberOfKeys: 1, lua: RELEASE_IF_MINE });
    redis.defineCommand('sealpostWakeHolder', { numberOfKeys: 1, lua: WAKE_HOLDER });
    this.redis = redis as WithPresence;
  }

  key(accountId: string, deviceId: number): string {
    return `${this.prefix}presence:{${accountId}}:${deviceId}`;
  }

  instanceChannel(instanceId: string): string {
    return `${this.prefix}relay:instance:${instanceId}`;
  }

  /** Marks this instance as the holder; returns the previous holder, if any. */
  async claim(accountId: string, deviceId: number, instanceId: string, ttlSeconds: number): Promise<string | null> {
    return this.redis.set(this.key(accountId, deviceId), instanceId, 'EX', ttlSeconds, 'GET');
  }

  async release(accountId: string, deviceId: number, instanceId: string): Promise<void> {
    await this.redis.sealpostReleasePresence(this.key(accountId, deviceId), instanceId);
  }

  async refresh(devices: { accountId: string; deviceId: number }[], instanceId: string, ttlSeconds: number): Promise<void> {
    if (devices.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const d of devices) pipeline.set(this.key(d.accountId, d.deviceId), instanceId, 'EX', ttlSeconds);
    await pipeline.exec();
  }

  /** Publishes `message` to the holder of each device, in one round trip. */
  async wakeHolders(devices: { accountId: string; deviceId: number }[], message: (d: { accountId: string; deviceId: number }) => string): Promise<void> {
    const pipeline = this.redis.pipeline() as unknown as { sealpostWakeHolder(k: string, c: string, m: string): void; exec(): Promise<unknown> };
    for (const d of devices) pipeline.sealpostWakeHolder(this.key(d.accountId, d.deviceId), `${this.prefix}relay:instance:`, message(d));
    await pipeline.exec();
  }

  async publish(instanceId: string, message: string): Promise<void> {
    await this.redis.publish(this.instanceChannel(instanceId), message);
  }
}
