import { Inject, Injectable, Logger } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { BUS_CLIENT } from '@sealpost/bus';
import { DeliveryNoticeRequest, RelayPattern } from '@sealpost/contracts';
import type { OutboxRow } from './outbox.repository';

/**
 * Tells a local sending device that a delivery to another homeserver finally failed, as a
 * server notice in its queue. Sealed sends have no known sender: those failures are logged
 * (as counts, without content) instead.
 */
@Injectable()
export class SenderNotices {
  private readonly logger = new Logger(SenderNotices.name);

  constructor(@Inject(BUS_CLIENT) private readonly bus: ClientProxy) {}

  async deliveryFailed(rows: OutboxRow[], reason: string): Promise<void> {
    let anonymous = 0;
    for (const row of rows) {
      if (!row.senderAccountId || !row.senderDeviceId) {
        anonymous += 1;
        continue;
      }
      const notice: DeliveryNoticeRequest = {
        accountId: row.senderAccountId,
        deviceId: row.senderDeviceId,
        notice: { notice: 'delivery-failed', deliveryId: row.id, address: row.delivery.address, reason },
      };
      await firstValueFrom(this.bus.send(RelayPattern.DeliverNotice, notice).pipe(timeout(15_000))).catch(() =>
        this.logger.warn(`could not queue a delivery-failed notice for delivery ${row.id}`),
      );
    }
    if (anonymous > 0)
      this.logger.warn(`${anonymous} sealed-sender deliveries failed for good (${reason}); their senders are unknown to this server`);
  }
}
