import { randomBytes } from 'node:crypto';
import { sleep } from '../../support/send-stream';
import { DeliveryAudit } from './delivery-audit';
import type { FaultRig } from './fault-rig';
import type { FaultRow } from './fault-table';
import { PairLoad } from './pair-load';

/** After a fault ends, the homeservers must be whole again within this long (see DeliveryAudit.recoveredAt). */
export const RECOVERY_BOUND_MS = 60_000;
/** Before a fault: every pair must have had this many sends delivered (the load is flowing). */
const WARM_DELIVERIES = 3;
const WARM_TIMEOUT_MS = 30_000;
/** Load kept going after recovery, so that recovered traffic is more than one send per pair. */
const AFTER_RECOVERY_MS = 2000;
/** After the load stops: how long every accepted send may still take to arrive. */
const DRAIN_MS = 30_000;
/** When the fault did not recover in the bound, a short last look instead. */
const DRAIN_UNRECOVERED_MS = 5000;
/** Held open after the drain so that late duplicates would still be seen. */
const LATE_DUPLICATE_WINDOW_MS = 1000;

const LOAD = { pauseMs: 100, retryMs: 200, attemptTimeoutMs: 30_000 };

export interface InjectedFault {
  /** When the fault was over: the killed service healthy again, the server back, the peer back. */
  endedAt: number;
  note?: string;
}

/**
 * Runs one fault under the steady pair load and measures it: load on, every pair delivering,
 * `inject()` (which returns when the fault is over), then waits (bounded) for recovery, keeps
 * the load a little longer, stops it, waits (bounded) for every accepted send to arrive, and
 * tallies. Never throws for a broken promise — the row says what happened and the caller asserts
 * on it —; throws only if the load could not even start. Heals the rig afterwards in any case.
 */
export async function measureFault(rig: FaultRig, fault: string, inject: () => Promise<InjectedFault>): Promise<FaultRow> {
  const tag = `f${randomBytes(4).toString('hex')}`;
  const load = new PairLoad(tag, rig.senders, rig.recipients, (d) => rig.serverOf(d), LOAD).start();
  const audit = new DeliveryAudit(tag, load.pairs, rig.receivers);
  let row: FaultRow | undefined;
  try {
    if (!(await within(WARM_TIMEOUT_MS, () => audit.everyPairDelivered(WARM_DELIVERIES)))) {
      throw new Error(
        `${fault}: before the fault, within ${WARM_TIMEOUT_MS} ms, pairs ${audit.pairsBelow(WARM_DELIVERIES).join(', ')} had fewer than ` +
          `${WARM_DELIVERIES} sends delivered (failed attempts ${JSON.stringify(Object.fromEntries(load.failures))})`,
      );
    }
    const startedAt = Date.now();
    const injected = await inject();
    let recoveredAt: number | null = null;
    await within(RECOVERY_BOUND_MS, () => (recoveredAt = audit.recoveredAt(injected.endedAt)) !== null);
    if (recoveredAt !== null) await sleep(AFTER_RECOVERY_MS);
    await load.stop();
    await within(recoveredAt !== null ? DRAIN_MS : DRAIN_UNRECOVERED_MS, () => audit.allDelivered());
    await sleep(LATE_DUPLICATE_WINDOW_MS);
    row = {
      fault,
      ...audit.tally(),
      recoveryMs: recoveredAt === null ? null : (recoveredAt as number) - injected.endedAt,
      crashes: rig.unexpectedExitsSince(startedAt),
      failedAttempts: Object.fromEntries(load.failures),
      note: injected.note ?? '',
    };
    return row;
  } finally {
    await load.stop();
    try {
      // A fault the homeservers did not get over on their own: restart every service (what an
      // operator would do), so the next fault is measured from a working system.
      await rig.heal({ restartAll: !row || row.recoveryMs === null || row.lost > 0 || row.crashes.length > 0 });
      if (row && row.lost > 0) {
        // Lost within the bound; after the heal (crashed services restarted), was it late or gone?
        await within(DRAIN_MS, () => audit.allDelivered());
        const gone = audit.tally().lost;
        row.note = [row.note, `after the heal: ${row.lost - gone} of the ${row.lost} lost arrived late, ${gone} never`]
          .filter(Boolean)
          .join('; ');
      }
    } catch (error) {
      // The row stands; the next fault starts from whatever could not be healed (and says so).
      if (!row) throw error;
      row.note = [row.note, `heal after the fault failed: ${(error as Error).message.split('\n')[0]}`].filter(Boolean).join('; ');
    }
  }
}

/** Polls `predicate` every 100 ms for at most `ms`; whether it came true. */
async function within(ms: number, predicate: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}
