import type Redis from 'ioredis';

// Publishes to the holder's channel only if someone holds the address; returns how many
// subscribers got it (0: no holder, or the holder's replica is gone).
const ROUTE_TO_HOLDER = `local holder = redis.call('GET', KEYS[1])
if not holder then return 0 end
return redis.call('PUBLISH', ARGV[1] .. holder, ARGV[2])`;
const RELEASE_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type WithRoutes = Redis & {
  sealpostRouteProvisioning(key: string, channelPrefix: string, message: string): Promise<number>;
  sealpostReleaseProvisioning(key: string, instanceId: string): Promise<number>;
};

/**
 * Which relay replica holds a provisioning socket: `{prefix}provisioning:{pseudonym}` → its
 * instance id, expiring with the socket. The pseudonym is the keyed hash of the provisioning
 * address (`MetadataPseudonyms`): whoever reads Redis or listens on its channels can deliver to
 * no one, since the address itself is never written to Redis — not in a key, a channel name or a
 * message. Messages for a socket go to its holder's channel `{prefix}relay:provisioning:{instanceId}`.
 */
export class ProvisioningRoutes {
  private readonly redis: WithRoutes;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('sealpostRouteProvisioning', { numberOfKeys: 1, lua: ROUTE_TO_HOLDER });
    redis.defineCommand('sealpostReleaseProvisioning', { numberOfKeys: 1, lua: RELEASE_IF_MINE });
    this.redis = redis as WithRoutes;
  }

  key(pseudonym: string): string {
    return `${this.prefix}provisioning:{${pseudonym}}`;
  }

  channel(instanceId: string): string {
    return `${this.prefix}relay:provisioning:${instanceId}`;
  }

  /** Names `instanceId` as the holder of the socket, for `ttlMs`. */
  async claim(pseudonym: string, instanceId: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(pseudonym), instanceId, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async release(pseudonym: string, instanceId: string): Promise<void> {
    await this.redis.sealpostReleaseProvisioning(this.key(pseudonym), instanceId);
  }

  /** Publishes `message` to the holder of the socket in one atomic step; false when nobody holds it or listens. */
  async routeToHolder(pseudonym: string, message: string): Promise<boolean> {
    return (await this.redis.sealpostRouteProvisioning(this.key(pseudonym), `${this.prefix}relay:provisioning:`, message)) > 0;
  }

  /** Publishes to one replica's channel (a delivery's outcome, back to the replica that took the PUT). */
  async publish(instanceId: string, message: string): Promise<void> {
    await this.redis.publish(this.channel(instanceId), message);
  }
}
