import { Injectable } from '@nestjs/common';
import { ConnectionRegistry } from './connection-registry.service';

/** Called after envelopes are committed: wakes the devices' sockets, wherever they are. */
@Injectable()
export class DeliveryNotifier {
  constructor(private readonly registry: ConnectionRegistry) {}

  stored(accountId: string, deviceIds: number[]): void {
    void this.registry.wake(accountId, deviceIds);
  }
}
