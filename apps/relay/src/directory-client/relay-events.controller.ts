import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DeviceRemovedEvent, DirectoryEvent, PrekeysLowEvent } from '@sealpost/contracts';
import { ConnectionRegistry } from '../delivery/connection-registry.service';
import { MessagesStore } from '../mailbox/messages-store.repository';
import { RelayMetrics } from '../relay.metrics';
import { DirectoryClient } from './directory-client.service';

/** The directory's announcements, as they concern the relay. */
@Controller()
export class RelayEventsController {
  private readonly logger = new Logger(RelayEventsController.name);

  constructor(
    private readonly directory: DirectoryClient,
    private readonly registry: ConnectionRegistry,
    private readonly store: MessagesStore,
    private readonly metrics: RelayMetrics,
  ) {}

  /** A removed device's token stops working, its socket closes and its queue goes. */
  @EventPattern(DirectoryEvent.DeviceRemoved)
  async deviceRemoved(@Payload() event: DeviceRemovedEvent): Promise<void> {
    if (typeof event?.accountId !== 'string' || typeof event.deviceId !== 'number') return;
    this.directory.forgetDevice(event.accountId, event.deviceId);
    this.registry.closeDevice(event.accountId, event.deviceId);
    const deleted = await this.store.deleteDevice(event.accountId, event.deviceId);
    if (deleted > 0) this.logger.log(`removed device: deleted ${deleted} queued envelopes`);
  }

  /**
   * A device's unused one-time keys ran low: a device connected here is told at once with a
   * `{"type":"prekeys-low","count","pqCount"}` frame (every relay hears the event; only the one
   * holding the socket sends). Not stored: a device that is offline learns it from GET /v1/keys.
   */
  @EventPattern(DirectoryEvent.PrekeysLow)
  prekeysLow(@Payload() event: PrekeysLowEvent): void {
    if (
      typeof event?.accountId !== 'string' ||
      !Number.isInteger(event.deviceId) ||
      !Number.isInteger(event.count) ||
      !Number.isInteger(event.pqCount)
    )
      return;
    const sent = this.registry
      .local(event.accountId, event.deviceId)
      ?.notice({ type: 'prekeys-low', count: event.count, pqCount: event.pqCount });
    if (sent) this.metrics.notices.inc({ type: 'prekeys-low' });
  }
}
