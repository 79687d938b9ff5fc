import { DeliveryAudit } from './support/delivery-audit';
import { PairLedger, pairContent } from './support/pair-load';
import type { Arrival, ReconnectingReceiver } from './support/reconnecting-receiver';

/**
 * The faults suite's verdicts are only as good as its audit: these cases pin down what
 * DeliveryAudit counts as lost, redelivered, duplicated by id, stored twice (by seq), out of
 * order and misrouted, and when it calls a fault recovered. Recipients' arrivals are given as
 * data (what a ReconnectingReceiver records); the audit itself is the real one.
 */

const TAG = 'audit';
const PAIR = 'alpha-s0>beta-r0';

function ledger(accepted: Record<number, number>, firstAttempt: Record<number, number> = accepted): PairLedger {
  return {
    key: PAIR,
    sealed: false,
    federated: true,
    firstAttemptAt: new Map(Object.entries(firstAttempt).map(([k, v]) => [Number(k), v])),
    acceptedAt: new Map(Object.entries(accepted).map(([k, v]) => [Number(k), v])),
  };
}

function arrival(id: string, seq: number, at: number, connection = 1, pair = PAIR): Arrival {
  return { id, content: Buffer.from(pairContent(TAG, pair, seq)).toString('base64'), at, connection };
}

function audit(pair: PairLedger, arrivals: Arrival[], receiver = 'beta-r0'): DeliveryAudit {
  return new DeliveryAudit(TAG, [pair], new Map([[receiver, { arrivals } as unknown as ReconnectingReceiver]]));
}

describe('DeliveryAudit', () => {
  it('counts an accepted send that never arrived as lost, and one without a 2xx that arrived as allowed', () => {
    const tally = audit(ledger({ 0: 10, 1: 20 }, { 0: 5, 1: 15, 2: 25 }), [arrival('a', 0, 30), arrival('c', 2, 40)]).tally();
    expect({ accepted: tally.accepted, delivered: tally.delivered, lost: tally.lost, unanswered: tally.unansweredDelivered }).toEqual({
      accepted: 2,
      delivered: 1,
      lost: 1,
      unanswered: 1,
    });
  });

  it('tells a redelivery on a later connection (allowed) from a second push on one connection (a defect)', () => {
    const tally = audit(ledger({ 0: 1, 1: 2 }), [
      arrival('a', 0, 10, 1),
      arrival('b', 1, 11, 1),
      arrival('b', 1, 12, 1),
      arrival('a', 0, 20, 2),
    ]).tally();
    expect({ redelivered: tally.redelivered, duplicatesById: tally.duplicatesById, outOfOrder: tally.outOfOrder }).toEqual({
      redelivered: 1,
      duplicatesById: 1,
      outOfOrder: 0,
    });
  });

  it('counts one seq under two envelope ids as stored twice, not as out of order', () => {
    const tally = audit(ledger({ 0: 1, 1: 2 }), [arrival('a', 0, 10), arrival('b', 1, 11), arrival('b2', 1, 12)]).tally();
    expect({ duplicatesBySeq: tally.duplicatesBySeq, outOfOrder: tally.outOfOrder, lost: tally.lost }).toEqual({
      duplicatesBySeq: 1,
      outOfOrder: 0,
      lost: 0,
    });
  });

  it('counts each envelope that arrives after a higher seq of its pair as out of order', () => {
    const tally = audit(ledger({ 0: 1, 1: 2, 2: 3, 3: 4 }), [
      arrival('c', 2, 10),
      arrival('a', 0, 11),
      arrival('b', 1, 12),
      arrival('d', 3, 13),
    ]).tally();
    expect(tally.outOfOrder).toBe(2);
  });

  it("counts an envelope on another device than its pair's recipient as misrouted", () => {
    const tally = audit(ledger({ 0: 1 }), [arrival('a', 0, 10)], 'beta-r1').tally();
    expect({ misrouted: tally.misrouted, lost: tally.lost }).toEqual({ misrouted: 1, lost: 1 });
  });

  it('calls a fault recovered once a send begun after its end arrived and everything accepted before it arrived', () => {
    const pair = ledger({ 0: 100, 1: 900, 2: 1200 }, { 0: 90, 1: 200, 2: 1100 });
    expect(audit(pair, [arrival('a', 0, 110), arrival('c', 2, 1300)]).recoveredAt(1000)).toBeNull(); // seq 1 (accepted at 900) missing
    expect(audit(pair, [arrival('a', 0, 110), arrival('b', 1, 1500), arrival('c', 2, 1300)]).recoveredAt(1000)).toBe(1500);
    expect(audit(pair, [arrival('a', 0, 110), arrival('b', 1, 950)]).recoveredAt(1000)).toBeNull(); // nothing begun after the end arrived
  });
});
