import type { RemoteDelivery } from '@sealpost/contracts';
import { requestSizedParts } from './request-sized-parts';

const delivery = (id: number, devices: number, contentLength = 100): RemoteDelivery => ({
  id: `d${id}`,
  address: 'bob@beta.test',
  timestamp: 1,
  urgent: false,
  messages: Array.from({ length: devices }, (_, i) => ({
    deviceId: i + 1,
    registrationId: 1,
    type: 1,
    content: 'A'.repeat(contentLength),
  })),
});

describe('requestSizedParts', () => {
  it('keeps every part within the envelope cap and the deliveries in order', () => {
    const deliveries = Array.from({ length: 100 }, (_, i) => delivery(i, 1 + (i % 5)));
    const parts = requestSizedParts(deliveries, { maxEnvelopesPerRequest: 128, maxBatchBodyBytes: 1 << 30 });
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.reduce((n, d) => n + d.messages.length, 0)).toBeLessThanOrEqual(128);
    expect(parts.flat().map((d) => d.id)).toEqual(deliveries.map((d) => d.id));
  });

  it('keeps every part within the body cap', () => {
    const deliveries = Array.from({ length: 10 }, (_, i) => delivery(i, 1, 300_000));
    const parts = requestSizedParts(deliveries, { maxEnvelopesPerRequest: 128, maxBatchBodyBytes: 1_000_000 });
    expect(parts.map((p) => p.length)).toEqual([3, 3, 3, 1]);
  });

  it('sends a delivery over the limits alone, and nothing when there is nothing', () => {
    expect(
      requestSizedParts([delivery(1, 3), delivery(2, 1)], { maxEnvelopesPerRequest: 2, maxBatchBodyBytes: 1 << 30 }).map((p) => p.length),
    ).toEqual([1, 1]);
    expect(requestSizedParts([], { maxEnvelopesPerRequest: 2, maxBatchBodyBytes: 1 << 30 })).toEqual([]);
  });
});
