import type { VetDestinationReply } from '@sealpost/contracts';
import { ApiError, ServiceMetrics } from '@sealpost/http';
import { RelayMetrics } from '../relay.metrics';
import { DestinationVerdicts } from './destination-verdicts.service';
import type { FederationClient } from './federation-client.service';

const unanswered = (forMs: number): VetDestinationReply => ({
  refusal: { status: 503, body: { error: 'unknown_server', message: 'did not answer', retryAfter: Math.ceil(forMs / 1000) } },
  refusalForMs: forMs,
});

/** A gateway that answers the question from `verdicts` (in turn), counting how often it was asked. */
function gateway(...verdicts: (VetDestinationReply | null)[]) {
  const asked: string[] = [];
  const client = {
    vetDestination: async (destination: string) => {
      asked.push(destination);
      await new Promise((r) => setImmediate(r));
      return verdicts.length > 1 ? verdicts.shift()! : verdicts[0];
    },
  };
  return { asked, verdicts: new DestinationVerdicts(client as unknown as FederationClient, new RelayMetrics(new ServiceMetrics())) };
}

async function refusalOf(promise: Promise<void>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('not refused');
}

describe('DestinationVerdicts', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'], now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('keeps a refusal for as long as the gateway says, answering from memory with Retry-After counted down, then asks again', async () => {
    const { asked, verdicts } = gateway(unanswered(30_000), { refusal: null, refusalForMs: 0 });
    expect((await refusalOf(verdicts.admit('void.test'))).getStatus()).toBe(503);
    jest.setSystemTime(1_000_000 + 20_000);
    const kept = verdicts.refusalFor('void.test')!;
    expect(kept.getResponse()).toMatchObject({ error: 'unknown_server', retryAfter: 10 });
    expect(kept.headers).toEqual({ 'retry-after': '10' });
    expect((await refusalOf(verdicts.admit('void.test'))).getStatus()).toBe(503);
    expect(asked).toEqual(['void.test']);
    jest.setSystemTime(1_000_000 + 30_001);
    expect(verdicts.refusalFor('void.test')).toBeNull();
    await verdicts.admit('void.test');
    expect(asked).toEqual(['void.test', 'void.test']);
  });

  it('asks once for concurrent sends to one destination', async () => {
    const { asked, verdicts } = gateway(unanswered(5000));
    const refusals = await Promise.all([1, 2, 3].map(() => refusalOf(verdicts.admit('void.test'))));
    expect(refusals.map((r) => r.getStatus())).toEqual([503, 503, 503]);
    expect(asked).toEqual(['void.test']);
  });

  it('does not ask again about a destination it let through or that took a delivery, for ten minutes', async () => {
    const { asked, verdicts } = gateway({ refusal: null, refusalForMs: 0 });
    await verdicts.admit('peer.test');
    await verdicts.admit('peer.test');
    verdicts.delivered('other.test');
    await verdicts.admit('other.test');
    expect(asked).toEqual(['peer.test']);
    jest.setSystemTime(1_000_000 + 10 * 60_000 + 1);
    await verdicts.admit('peer.test');
    expect(asked).toEqual(['peer.test', 'peer.test']);
  });

  it('does not keep a refusal about the gateway itself (resolution_busy, 0 ms)', async () => {
    const busy: VetDestinationReply = {
      refusal: { status: 503, body: { error: 'resolution_busy', message: 'busy', retryAfter: 1 } },
      refusalForMs: 0,
    };
    const { verdicts } = gateway(busy);
    expect((await refusalOf(verdicts.admit('new.test'))).getResponse()).toMatchObject({ error: 'resolution_busy' });
    expect(verdicts.refusalFor('new.test')).toBeNull();
  });

  it('lets sends go on when the gateway gives no verdict (an older gateway): it vets the delivery itself', async () => {
    const { asked, verdicts } = gateway(null);
    await verdicts.admit('peer.test');
    await verdicts.admit('peer.test');
    expect(asked).toEqual(['peer.test']);
  });
});
