import { Injectable } from '@nestjs/common';
import type { StoredEnvelope } from '../mailbox/messages-store.repository';
import { ConnectionRegistry } from './connection-registry.service';
import { RelayMetrics } from '../relay.metrics';

/**
 * Called after envelopes are committed: a socket on this instance gets them in memory; sockets
 * on other instances get a wake-up through Redis and fetch from Postgres.
 */
@Injectable()
export class DeliveryNotifier {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly metrics: RelayMetrics,
  ) {}

  stored(accountId: string, envelopes: (StoredEnvelope & { deviceId: number })[]): void {
    this.metrics.stored.inc(envelopes.length);
    const remote: number[] = [];
    for (const envelope of envelopes) {
      const local = this.registry.local(accountId, envelope.deviceId);
      if (local) local.offer([envelope]);
      else remote.push(envelope.deviceId);
    }
    if (remote.length > 0) void this.registry.wake(accountId, remote);
  }
}
