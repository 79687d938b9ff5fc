/** BullMQ queues and job names of Sealpost, with the payload each job carries. */
export const QueueName = {
  RelayMaintenance: 'relay-maintenance',
  FederationOutbox: 'federation-outbox',
} as const;

export const JobName = {
  ExpireEnvelopes: 'relay.expire-envelopes',
  FlushDestination: 'federation.flush-destination',
  SweepOutbox: 'federation.sweep-outbox',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

export interface JobPayloads {
  [JobName.ExpireEnvelopes]: Record<string, never>;
  [JobName.FlushDestination]: { destination: string };
  [JobName.SweepOutbox]: Record<string, never>;
}

export type JobOf<N extends JobName> = { name: N; data: JobPayloads[N] };

/** BullMQ key prefix with a Redis Cluster hash tag, so each queue's keys share a slot. */
export function bullPrefix(redisPrefix: string): string {
  return `{${redisPrefix}bull}`;
}
