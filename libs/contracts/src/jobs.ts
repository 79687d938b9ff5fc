/**
 * BullMQ queues and job names of Sealpost, with the payload each job carries. (The outbox sweep
 * is no BullMQ job: each gateway replica runs it on a local timer from Postgres, see
 * OutboxScheduler, so losing Redis cannot stop it.)
 */
export const QueueName = {
  RelayMaintenance: 'relay-maintenance',
  FederationOutbox: 'federation-outbox',
} as const;

export const JobName = {
  ExpireEnvelopes: 'relay.expire-envelopes',
  FlushDestination: 'federation.flush-destination',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

export interface JobPayloads {
  [JobName.ExpireEnvelopes]: Record<string, never>;
  [JobName.FlushDestination]: { destination: string };
}

export type JobOf<N extends JobName> = { name: N; data: JobPayloads[N] };

/** BullMQ key prefix with a Redis Cluster hash tag, so each queue's keys share a slot. */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}bull}`;
}
