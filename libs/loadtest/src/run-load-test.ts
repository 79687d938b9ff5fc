import { provisionAccounts } from './accounts/provision-accounts';
import { buildPopulation } from './accounts/load-population';
import { planContacts } from './accounts/contact-plan';
import { establishSessions } from './coordinator/session-handshake';
import { joinDeliveries } from './coordinator/delivery-join';
import { runLoadPhase } from './coordinator/load-phase';
import { primeFederation } from './coordinator/prime-federation';
import { buildReport } from './coordinator/report-builder';
import { ServiceSampler } from './coordinator/service-sampler';
import { setUpWorkers } from './coordinator/worker-setup';
import { warmUpPhase } from './coordinator/warm-up-phase';
import type { LoadOptions } from './options/load-options';
import type { LoadReport, TimelineSecond } from './report/load-report';
import { ArrivalSchedule } from './schedule/arrival-schedule';
import { newRunTag } from './schedule/send-key';
import { discoverTargets } from './targets/discover-targets';
import { SpawnedHomeservers, SpawnedService } from './targets/spawned-homeservers';
import type { ResolvedTarget } from './targets/resolved-target';
import type { WorkerProcess } from './coordinator/worker-processes';

export interface LoadHooks {
  /** Aborting ends the run as `interrupted`: sending stops, a short drain, and the report of what ran. */
  signal?: AbortSignal;
  /** Set-up and progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Each second of the run once merged across workers. */
  onSecond?: (second: TimelineSecond) => void;
  /** The targets once found or started (with `--spawn`, also their service processes: a preset may watch their CPU or databases). */
  onTargets?: (targets: ResolvedTarget[], spawned: SpawnedService[]) => void;
  /** Awaited once the accounts exist and before any device socket opens (a preset reads a service's memory before the sockets). */
  beforeConnect?: (targets: ResolvedTarget[]) => Promise<void>;
  /** The command line to record in the report. */
  command?: string[];
}

/** Thrown when the run was interrupted before its load started: there is nothing to report. */
export class InterruptedBeforeLoadError extends Error {
  constructor() {
    super('interrupted before the load started');
    this.name = 'InterruptedBeforeLoadError';
  }
}

/**
 * One load test: targets found (or spawned), accounts provisioned, workers forked with their
 * devices' sockets open and their envelopes sealed, the open-model load run and drained, the
 * books joined into a LoadReport. Everything started here is stopped before it returns — also on
 * an error or an abort. Thresholds are the caller's (`report.thresholds` is left empty).
 */
export async function runLoadTest(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadReport> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const checkpoint = () => {
    if (hooks.signal?.aborted) throw new InterruptedBeforeLoadError();
  };
  const startedAt = new Date();
  const spawned = options.spawn > 0 ? new SpawnedHomeservers(process.env, (name, line) => log(`[${name}] ${line}`)) : undefined;
  let workers: WorkerProcess[] = [];
  let sampler: ServiceSampler | undefined;
  try {
    if (spawned) log(`starting ${options.spawn} homeservers on loopback`);
    const targets = spawned ? await spawned.start(options.spawn) : await discoverTargets(options);
    hooks.onTargets?.(targets, spawned?.services ?? []);
    log(`targets: ${targets.map((t) => `${t.serverName} (${t.discoveryUrl}, ${t.metrics.length} metrics endpoints)`).join(', ')}`);
    checkpoint();
    const stored = await provisionAccounts(options, targets, log);
    const { population, stores } = buildPopulation(stored, targets, options.senders, options.workers);
    planContacts(population, options);
    checkpoint();
    if (targets.length > 1) await primeFederation(stored, targets, log);
    checkpoint();
    if (options.conversations) await establishSessions(population, stores, targets, log);
    checkpoint();
    const schedule = new ArrivalSchedule(options.stages, options.startRate);
    await hooks.beforeConnect?.(targets);
    checkpoint();
    const setup = await setUpWorkers({ options, targets, population, stores, runTag: newRunTag(), log });
    workers = setup.workers;
    checkpoint();
    if (options.warmupSends > 0) await warmUpPhase(workers, options.warmupSends, log);
    checkpoint();
    sampler = new ServiceSampler(targets);
    const phase = await runLoadPhase({
      workers,
      schedule,
      options,
      sampler,
      signal: hooks.signal,
      log,
      onSecond: hooks.onSecond,
      route: setup.route,
    });
    const connect = { ...setup.connect, ...(Object.keys(phase.drops).length > 0 ? { dropsByCloseCode: phase.drops } : {}) };
    return buildReport({
      command: hooks.command ?? [],
      options,
      startedAt,
      endedBy: phase.endedBy,
      error: phase.error,
      targets: targets.map((t, i) => ({
        serverName: t.serverName,
        discoveryUrl: t.discoveryUrl,
        directoryUrl: t.directoryUrl,
        relayUrl: t.relayUrl,
        accounts: population.accounts.filter((a) => a.target === i).length,
        devices: population.devices.filter((d) => population.accounts[d.account].target === i).length,
      })),
      connect,
      schedule,
      ledgers: phase.ledgers,
      joined: joinDeliveries(phase.ledgers, schedule),
      verifyFailures: phase.verifyFailures,
      timeline: phase.timeline,
      services: sampler.samples,
    });
  } finally {
    sampler?.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await spawned?.stop();
  }
}
