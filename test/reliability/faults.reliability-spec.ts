import { assertBuilt } from '../support/service-process';
import type { RunningHomeserver, ServiceKind } from '../../bench/support/federated-homeservers';
import { sleep } from '../support/send-stream';
import { FaultRig } from './support/fault-rig';
import { InjectedFault, RECOVERY_BOUND_MS, measureFault } from './support/fault-run';
import { FAULT_TABLE_FILE, FaultRow, writeFaultTable } from './support/fault-table';

/**
 * FAULTS (issue 8, DESIGN §7): "A send answered 2xx is never lost: not when any service is killed
 * with SIGKILL, nor when Redis or Postgres restarts. Each envelope reaches each device at least
 * once; clients dedupe on id. Per sender-device → recipient-device order is kept."
 *
 * Two homeservers, alpha.test and beta.test, each its three BUILT services as child processes,
 * on a private Postgres cluster and one private Redis each (spare loopback ports; see FaultRig).
 * A steady load (PairLoad) runs from 4 sender devices (2 per server; on each, one identified, one
 * sealed sender) to 4 recipient devices (2 per server), local and federated: 16 pairs, each
 * sending strictly sequentially, carrying `run|pair|seq` in its content, retrying a failed send
 * with the same seq and Idempotency-Key. Recipients stay online, reconnect after a drop and ack
 * every envelope.
 *
 * Each `it` is one fault under that load. After it, per DeliveryAudit's definitions:
 * - lost === 0: every send answered 2xx reached its recipient device;
 * - duplicates by id === 0: no envelope id pushed twice on one connection (a redelivery on a
 *   later connection is at-least-once delivery and allowed: the client dedupes on id);
 * - duplicates by seq === 0: no (pair, seq) under two envelope ids — nothing stored twice;
 * - out of order === 0: each pair's envelopes arrive in send order, federated pairs included;
 * - misrouted === 0;
 * - recovery ≤ RECOVERY_BOUND_MS (60 s) after the fault ends, with no operator action: every
 *   pair delivers a send begun after the end, and everything accepted before it has arrived;
 * - no service process crashed (exited without being told to) during the fault.
 * Between faults the rig is healed (services that ended restarted, Postgres and Redis up), so a
 * fault that breaks one case does not cascade into the next.
 *
 * The table of every fault is printed at the end and written to test/reliability/output/faults.md.
 * Needs `npm run build` (the services run from dist/); `npm run test:reliability` builds first.
 */

const rows: FaultRow[] = [];
let rig: FaultRig;

const PEER_OUTAGE_MS = 60_000;
const POSTGRES_FREEZE_MS = 10_000;
/** For "Redis restart with an outbox backlog": how long beta's gateway stays away so that alpha's outbox fills. */
const BACKLOG_BUILD_MS = 5000;
const FAULT_TIMEOUT_MS = 240_000;

function expectPromisesKept(row: FaultRow): void {
  const detail = `${row.fault}: ${JSON.stringify({ ...row, examples: row.examples.slice(0, 10) })}\n${row.crashes.length || row.lost || row.recoveryMs === null ? rig.logs() : ''}`;
  const broken = {
    lost: row.lost,
    duplicatesById: row.duplicatesById,
    duplicatesBySeq: row.duplicatesBySeq,
    outOfOrder: row.outOfOrder,
    misrouted: row.misrouted,
    crashes: row.crashes,
    recoveredInBound: row.recoveryMs !== null && row.recoveryMs <= RECOVERY_BOUND_MS,
  };
  const kept = { lost: 0, duplicatesById: 0, duplicatesBySeq: 0, outOfOrder: 0, misrouted: 0, crashes: [], recoveredInBound: true };
  if (JSON.stringify(broken) !== JSON.stringify(kept)) console.error(detail);
  expect(broken).toEqual(kept);
  // The load really ran through the fault: sends were accepted and delivered.
  expect(row.accepted).toBeGreaterThan(0);
  expect(row.delivered).toBe(row.accepted - row.lost);
}

async function faultCase(fault: string, inject: () => Promise<InjectedFault>): Promise<void> {
  const row = await measureFault(rig, fault, inject);
  rows.push(row);
  expectPromisesKept(row);
}

/** SIGKILL one service, then start it again at once (as a supervisor would): the fault ends when it is healthy. */
function sigkillAndRestart(hs: () => RunningHomeserver, kind: ServiceKind) {
  return async (): Promise<InjectedFault> => {
    await hs().kill(kind, 'SIGKILL');
    await hs().restart(kind);
    return { endedAt: Date.now() };
  };
}

describe('faults: two homeservers under steady load keep every promise', () => {
  beforeAll(async () => {
    assertBuilt('apps/prekey-directory/src/main.js', 'apps/relay/src/main.js', 'apps/federation-gateway/src/main.js');
    rig = await FaultRig.start();
  }, 180_000);

  afterAll(async () => {
    if (rows.length) console.log(`${writeFaultTable(rows, RECOVERY_BOUND_MS)}\n(written to ${FAULT_TABLE_FILE})`);
    await rig?.stop();
  }, 60_000);

  it(
    "alpha's prekey directory SIGKILLed and restarted",
    () =>
      faultCase(
        'SIGKILL alpha directory',
        sigkillAndRestart(() => rig.alpha, 'directory'),
      ),
    FAULT_TIMEOUT_MS,
  );

  it(
    "alpha's relay SIGKILLed and restarted",
    () =>
      faultCase(
        'SIGKILL alpha relay',
        sigkillAndRestart(() => rig.alpha, 'relay'),
      ),
    FAULT_TIMEOUT_MS,
  );

  it(
    "alpha's federation gateway SIGKILLed and restarted",
    () =>
      faultCase(
        'SIGKILL alpha gateway',
        sigkillAndRestart(() => rig.alpha, 'gateway'),
      ),
    FAULT_TIMEOUT_MS,
  );

  it(
    "beta's federation gateway SIGKILLed and restarted",
    () =>
      faultCase(
        'SIGKILL beta gateway',
        sigkillAndRestart(() => rig.beta, 'gateway'),
      ),
    FAULT_TIMEOUT_MS,
  );

  it(
    "alpha's Redis restarted (all its data lost) under load",
    () =>
      faultCase('Redis restart (alpha, data lost)', async () => {
        await rig.redis.alpha.stop();
        await rig.redis.alpha.start();
        return { endedAt: Date.now() };
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'Postgres restarted (-m fast)',
    () =>
      faultCase('Postgres restart fast', async () => {
        await rig.postgres.restart('fast');
        return { endedAt: Date.now() };
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'Postgres restarted (-m immediate: crash recovery from the WAL)',
    () =>
      faultCase('Postgres restart immediate', async () => {
        await rig.postgres.restart('immediate');
        return { endedAt: Date.now() };
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'Postgres frozen (SIGSTOP) for 10 s',
    () =>
      faultCase('Postgres frozen 10 s', async () => {
        rig.postgres.freeze();
        await sleep(POSTGRES_FREEZE_MS);
        rig.postgres.thaw();
        return { endedAt: Date.now() };
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    "beta's federation gateway stopped for 60 s (the peer is away)",
    () =>
      faultCase('peer gateway (beta) away 60 s', async () => {
        await rig.beta.kill('gateway', 'SIGTERM');
        await sleep(PEER_OUTAGE_MS);
        await rig.beta.restart('gateway');
        return { endedAt: Date.now() };
      }),
    FAULT_TIMEOUT_MS,
  );

  it(
    'all of beta stopped for 60 s (the whole peer is away)',
    () =>
      faultCase('whole peer (beta) away 60 s', async () => {
        await rig.beta.stopServices();
        await sleep(PEER_OUTAGE_MS);
        await rig.beta.startServices();
        return { endedAt: Date.now() };
      }),
    FAULT_TIMEOUT_MS,
  );

  // Last: a Redis loss that strands alpha's outbox leaves federation to beta stuck for every later fault.
  it(
    "alpha's Redis restarted (all its data lost) while alpha's outbox holds a backlog for beta",
    () =>
      faultCase('Redis restart (alpha) with outbox backlog', async () => {
        await rig.beta.kill('gateway', 'SIGTERM');
        await sleep(BACKLOG_BUILD_MS);
        const backlog = await rig.outboxBacklog(rig.alpha);
        await rig.redis.alpha.stop();
        await rig.redis.alpha.start();
        await rig.beta.restart('gateway');
        return { endedAt: Date.now(), note: `alpha outbox backlog ${backlog} at the Redis restart` };
      }),
    FAULT_TIMEOUT_MS,
  );
});
