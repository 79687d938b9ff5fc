/**
 * Abuse resistance (issue 9): runs cheap attacks, one after the other and each for a bounded time,
 * against two homeservers on loopback (alpha.test and beta.test, three processes each, the
 * services' DEFAULT limits) WHILE a legitimate open-model load runs between devices on both, and
 * judges each attack by what the legitimate load saw: delivery p99 during the attack at most 2×
 * the quiet window just before it, error share no higher than max(1 %, before), and nothing lost
 * (for stranger-flood also: the friend's 429 share at most 5 points above before).
 *
 * Schedule: `--warmup` s, then per attack `--before` s quiet, `--seconds` s attack, `--settle` s
 * not judged. Everything stays on loopback: "other servers" are names in both gateways'
 * FEDERATION_PEERS that lead to a local server which accepts and never answers. Every attack is
 * capped in count as well as time, states the bound on its intensity (at a time, or per second),
 * and stops by itself. Each attack runs in a process of its own (abuse-attack-runner.ts), so this
 * process is only the legitimate load generator: its own event-loop delay and issue lag are
 * printed per window, and show whether it kept up.
 *
 *   npm run bench:abuse -- [--attacks 1,2,ack-flood,...] [--seconds 20] [--before 10] [--settle 5] [--warmup 5]
 *                          [--rate 200] [--devices 20] [--drain 30]
 *
 * Databases sealpost_bench_abuse_alpha and sealpost_bench_abuse_beta (schemas dropped before the
 * run and after it: the attacks fill the outbox), fresh Redis prefixes, temporary KEYS_DIRs.
 */
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { ATTACK_KEYS, ATTACK_OPTIONS, AttackKey, isAttackKey } from './support/abuse-attack-catalog';
import type { WireTargets } from './support/abuse-attack-ipc';
import { AttackProcess, AttackRunResult } from './support/abuse-attack-process';
import { LegitLoad, PhaseFigures, registerLegitDevices } from './support/abuse-legit-load';
import { AbuseTimeline, PhasePart, sleepUntil } from './support/abuse-timeline';
import { parseArgs } from './support/bench-args';
import { judgeRounds } from './support/abuse-rounds';
import { runBench } from './support/bench-main';
import { BlackholeServer } from './support/blackhole-server';
import { WindowCpuSampler } from './support/cpu-accounting';
import { DeliveryLedger, fmt, round } from './support/delivery-ledger';
import { RunningHomeserver, SERVICE_KINDS, ServiceKind, startFederation } from './support/federated-homeservers';
import { resetSchemas } from './support/homeserver';
import { runOpenLoop } from './support/open-loop';
import { PhaseLoopDelay } from './support/phase-loop-delay';
import { PhaseRssSampler } from './support/phase-rss-sampler';
import type { ServiceProcess } from './support/service-process';
import { WsReceiver, terminateAll } from './support/ws-receiver';

const ALPHA = { label: 'alpha', serverName: 'alpha.test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/sealpost_bench_abuse_alpha' };
const BETA = { label: 'beta', serverName: 'beta.test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/sealpost_bench_abuse_beta' };
const SCHEMAS = ['directory', 'relay', 'federation'];
/** Never-answering servers in both peer maps: the first half for remote-sealed, the second for new-origins (all are KT gossip peers too). */
const VOID_SERVERS = 200;
/** A quiet window with a legitimate p99 above this is already overloaded: nothing is judged against it. */
const SANE_BASELINE_P99_MS = 1000;

interface Options {
  seconds: number;
  before: number;
  settle: number;
  warmup: number;
  rate: number;
  devices: number;
  drain: number;
  attacks: AttackKey[];
  /**
   * `--attacker-nice N` (default 19): the attack processes' scheduling priority. An attacker on the
   * Internet spends its own CPU, not the homeserver's; on one machine its work would take the
   * servers' cores as well as send them requests, so by default it gets only the CPU they leave
   * idle. 0 puts attacker and servers on an equal footing (the attack then costs the servers both).
   */
  attackerNice: number;
  /** `--rounds N` (default 1): each attack runs N times, interleaved; judged on the median ratio (abuse-rounds.ts). */
  rounds: number;
  /** `--cpu-prof DIR`: V8 CPU profiles of every relay and gateway (`<label>-<service>.cpuprofile`) written there at exit. */
  cpuProfDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    seconds: 20,
    before: 10,
    settle: 5,
    warmup: 5,
    rate: 200,
    devices: 20,
    drain: 30,
    attacks: ATTACK_KEYS,
    attackerNice: 19,
    rounds: 1,
  };
  const names: Record<string, keyof Omit<Options, 'attacks'>> = {
    '--seconds': 'seconds',
    '--before': 'before',
    '--settle': 'settle',
    '--warmup': 'warmup',
    '--rate': 'rate',
    '--devices': 'devices',
    '--drain': 'drain',
    '--attacker-nice': 'attackerNice',
    '--rounds': 'rounds',
  };
  const usage = `usage: [--attacks 1,2,${ATTACK_KEYS[2]},...] [${Object.keys(names).join(' N] [')} N] [--cpu-prof DIR]; attacks: ${ATTACK_KEYS.map((k, i) => `${i + 1}=${k}`).join(' ')}`;
  parseArgs(argv, options, names, usage, {
    '--cpu-prof': (dir) => {
      options.cpuProfDir = dir;
    },
    '--attacks': (list) => {
      options.attacks = list.split(',').map((item) => {
        const key = /^\d+$/.test(item.trim()) ? ATTACK_KEYS[Number(item) - 1] : item.trim();
        if (!key || !isAttackKey(key)) throw new Error(`--attacks: unknown "${item}"; ${usage}`);
        return key;
      });
    },
  });
  if (options.seconds <= 0 || options.before <= 0 || options.rate <= 0 || options.devices < 2 || options.attackerNice > 19) {
    throw new Error('--seconds, --before and --rate must be positive, --devices at least 2, --attacker-nice 0-19');
  }
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error('--rounds must be a whole number of at least 1');
  options.attacks = Array.from({ length: options.rounds }, () => options.attacks).flat();
  return options;
}

interface AttackResult {
  attack: AttackProcess;
  outcome: AttackRunResult;
}

/**
 * Runs each attack process in its slot of the timeline: the baseline in the quiet window, the
 * attack in its own; each has exited before the next slot (or been killed a grace after its window).
 */
async function driveAttacks(attacks: AttackProcess[], timeline: AbuseTimeline): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  for (const slot of timeline.slots) {
    const attack = attacks[slot.index];
    await sleepUntil(slot.beforeStart);
    attack.startBaseline();
    await sleepUntil(slot.duringStart);
    process.stderr.write(`attack ${attack.key} (pid ${attack.pid}): ${attack.title}\n`);
    const outcome = await attack.run(Math.max(0, Number(slot.duringEnd - process.hrtime.bigint()) / 1e6));
    results.push({ attack, outcome });
  }
  return results;
}

interface Holder {
  services: ServiceProcess[];
  homeservers: RunningHomeserver[];
  receivers: WsReceiver[];
  /** Killed first, if any still runs. */
  attacks: AttackProcess[];
  /** Closed before the services stop (the legitimate pools). */
  closeFirst: (() => Promise<void>)[];
  /** Run after the services stopped, last pushed first. */
  stops: (() => Promise<void>)[];
}

interface Verdict {
  pass: boolean;
  reasons: string[];
}

function judge(before: PhaseFigures, during: PhaseFigures, lost: number, result: AttackResult): Verdict {
  const reasons: string[] = [];
  const errPct = (f: PhaseFigures) => (f.sends ? (100 * f.errors) / f.sends : 0);
  // A saturated quiet window makes "2× before" meaningless: such an attack is not judged as held.
  if (before.p99Ms > SANE_BASELINE_P99_MS)
    reasons.push(`baseline saturated: p99 before ${fmt(before.p99Ms)} ms > ${SANE_BASELINE_P99_MS} ms (load or machine too busy to judge)`);
  if (during.delivered === 0) reasons.push('nothing delivered during the attack');
  else if (during.p99Ms > 2 * before.p99Ms) reasons.push(`p99 ${fmt(during.p99Ms)} ms > 2 × ${fmt(before.p99Ms)} ms`);
  if (errPct(during) > Math.max(1, errPct(before))) reasons.push(`errors ${fmt(errPct(during))} % of legitimate sends`);
  if (lost > 0) reasons.push(`${lost} envelopes lost`);
  const { summary, baseline, failure } = result.outcome;
  const share = (s?: Record<string, unknown>) => Number(s?.legit429SharePct ?? 0);
  if (result.attack.key === 'stranger-flood' && share(summary) > share(baseline) + 5)
    reasons.push(`friend's 429 share ${share(summary)} % (before ${share(baseline)} %)`);
  if (failure) reasons.push(`attack failed: ${failure}`);
  return { pass: reasons.length === 0, reasons };
}

async function main(holder: Holder): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = Date.now();
  const { blackhole, url: blackholeUrl } = await BlackholeServer.listen();
  holder.stops.push(() => blackhole.close());
  const voidServers = Array.from({ length: VOID_SERVERS }, (_, i) => `void${i}.test`);
  const profiled = options.cpuProfDir ? { cpuProfile: ['relay', 'gateway'] as ServiceKind[] } : {};
  const [alpha, beta] = await startFederation(
    [
      { ...ALPHA, ...profiled },
      { ...BETA, ...profiled },
    ],
    { extraPeers: Object.fromEntries(voidServers.map((s) => [s, blackholeUrl])), cpuProfDir: options.cpuProfDir },
    holder,
  );
  holder.homeservers.push(alpha, beta);
  holder.stops.push(() => Promise.all([ALPHA, BETA].map((hs) => resetSchemas(hs.databaseUrl, SCHEMAS))).then(() => undefined));
  console.log(`started alpha.test and beta.test, 3 processes each, default limits (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);

  const runTag = randomBytes(3).toString('hex');
  const devices = await registerLegitDevices([alpha, beta], options.devices, runTag);
  const targets: WireTargets = { alpha: wireHomeserver(alpha), beta: wireHomeserver(beta), voidServers };
  const attacks: AttackProcess[] = [];
  for (const [round, key] of options.attacks.entries()) {
    const attack = await AttackProcess.start({
      key,
      options: ATTACK_OPTIONS[key],
      targets,
      // Each entry its own accounts (a repeated attack, --rounds, registers its own).
      runTag: `${runTag}${round.toString(36)}`,
      accepted: () => blackhole.accepted,
      nice: options.attackerNice,
    });
    attacks.push(attack);
    holder.attacks.push(attack);
  }

  const perAttack = options.before + options.seconds + options.settle;
  const ledger = new DeliveryLedger({ rate: options.rate, warmup: options.warmup, seconds: attacks.length * perAttack });
  const load = new LegitLoad(devices, ledger);
  holder.closeFirst.push(() => load.close());
  await load.connect(holder.receivers);
  await load.primeFederation();
  const sealStart = Date.now();
  await load.sealPool();
  console.log(`sealed the legitimate messages with the client SDK before the load (${((Date.now() - sealStart) / 1000).toFixed(1)} s)`);
  console.log(
    `setup: ${devices.length} legitimate devices (${options.devices} per server) registered and connected; ${attacks.length} attack processes started and prepared (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
  );

  ledger.startClock();
  const timeline = new AbuseTimeline(
    ledger.t0,
    { warmup: options.warmup, before: options.before, during: options.seconds, settle: options.settle },
    attacks.length,
  );
  load.useTimeline(timeline);
  const pids = Object.fromEntries([alpha, beta].flatMap((hs) => SERVICE_KINDS.map((k) => [`${hs.label}-${k}`, hs.services[k].pid])));
  const rss = new PhaseRssSampler(pids, timeline);
  rss.start();
  const cpu = new WindowCpuSampler();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const phaseLoopDelay = new PhaseLoopDelay(timeline);
  phaseLoopDelay.start();
  const run = runOpenLoop({
    rate: options.rate,
    total: ledger.total,
    maxOutstanding: 20_000,
    t0: ledger.t0,
    start: (seq) => load.send(seq),
  });
  const results = await driveAttacks(attacks, timeline);
  await run.issued;
  const machine = cpu.report(
    { ...Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, [pid]])), attacks: attacks.map((a) => a.pid) },
    { attacks: results.reduce((sum, r) => sum + (r.outcome.cpuSeconds ?? 0), 0) },
  );
  loopDelay.disable();
  phaseLoopDelay.stop();
  await ledger.drain(() => run.outstanding() > 0 || run.waiting() > 0, options.drain);
  rss.stop();

  // ---- report ----
  const exits = [alpha, beta].flatMap((hs) =>
    hs.exits.filter((e) => !e.expected).map((e) => `${hs.label}-${e.kind} (code ${e.code}, signal ${e.signal})`),
  );
  console.log('');
  console.log(
    `abuse bench: ${attacks.length} attacks × (${options.before} s before + ${options.seconds} s attack + ${options.settle} s settle) against alpha.test and beta.test (default limits) on this machine, ${cpus().length} cores, node ${process.version}`,
  );
  console.log(
    `legitimate load: ${options.rate} sends/s open model, ${devices.length} devices on both servers (own source address each), SDK-sealed libsignal envelopes (64-512 B plaintext), half sent sealed / half identified, each to one of its sender's 4 contacts; latency from the INTENDED send time to arrival`,
  );
  console.log(
    `machine during the run: ${fmt(machine.machinePct)} % of ${cpus().length * 100} %; the load generator (this process) ${fmt(machine.selfPct)} %, the attack processes ${fmt(machine.groups.attacks)} %; processes outside this bench ${fmt(machine.otherPct)} %` +
      (machine.topOthers.length ? ` (${machine.topOthers.map((o) => `${o.pct.toFixed(0)}% ${o.command.slice(0, 40)}`).join('; ')})` : ''),
  );
  const short = (name: string) => name.replace('alpha-', 'a-').replace('beta-', 'b-').replace('directory', 'dir').replace('gateway', 'gw');
  console.log('');
  console.log(
    `${'attack'.padEnd(15)} ${'verdict'.padEnd(7)} ${'p99 ms before → during'.padEnd(24)} ${'errors % before → during'.padEnd(25)} lost  ${'attack sent/s'.padEnd(14)} ${'client loop ms'.padEnd(15)} RSS MiB max before → during (${rss.names.map(short).join(' ')})`,
  );
  console.log(
    `${''.padEnd(15)} ${''.padEnd(7)} ${''.padEnd(24)} ${''.padEnd(25)} ${''.padEnd(5)} ${'(achieved)'.padEnd(14)} ${'p99/max during'.padEnd(15)}`,
  );
  const loopText = (i: number, part: PhasePart): string => {
    const f = phaseLoopDelay.of(i, part);
    return f ? `${fmt(f.p99Ms)}/${fmt(f.maxMs)}` : '?';
  };
  const rows = results.map((result, i) => {
    const before = load.figures(i, 'before');
    const during = load.figures(i, 'during');
    const settle = load.figures(i, 'settle');
    const lost = before.lost + during.lost + settle.lost;
    const verdict = judge(before, during, lost, result);
    const errPct = (f: PhaseFigures) => (f.sends ? (100 * f.errors) / f.sends : 0);
    const rssOf = (name: string) => ({
      before: rss.maxOf(i, 'before', name),
      during: rss.maxOf(i, 'during', name),
      gone: rss.wasGone(i, 'during', name),
    });
    const rssText = rss.names
      .map((name) => {
        const r = rssOf(name);
        return `${r.before?.toFixed(0) ?? '?'}→${r.during?.toFixed(0) ?? '?'}${r.gone ? '(DIED)' : ''}`;
      })
      .join(' ');
    const sentPerSecond = result.outcome.sentPerSecond === undefined ? '?' : fmt(result.outcome.sentPerSecond);
    console.log(
      `${result.attack.key.padEnd(15)} ${(verdict.pass ? 'pass' : 'FAIL').padEnd(7)} ${`${fmt(before.p99Ms)} → ${fmt(during.p99Ms)}`.padEnd(24)} ${`${fmt(errPct(before))} → ${fmt(errPct(during))}`.padEnd(25)} ${String(lost).padEnd(5)} ${sentPerSecond.padEnd(14)} ${loopText(i, 'during').padEnd(15)} ${rssText}`,
    );
    return { result, before, during, settle, lost, verdict, rss: Object.fromEntries(rss.names.map((n) => [n, rssOf(n)])) };
  });
  console.log('');
  for (const [i, row] of rows.entries()) {
    const { attack, outcome } = row.result;
    console.log(`${attack.key}: ${attack.title}`);
    if (!row.verdict.pass) console.log(`  FAIL: ${row.verdict.reasons.join('; ')}`);
    console.log(
      `  offered: ${attack.offered}; achieved: ${outcome.summary ? `${outcome.summary.sent} ${attack.unit} in ${fmt(outcome.activeSeconds ?? 0)} s = ${fmt(outcome.sentPerSecond ?? 0)} ${attack.unit}/s` : 'nothing (no result)'}` +
        (outcome.loopDelayMaxMs === undefined
          ? ''
          : `; attack process: CPU ${fmt((100 * (outcome.runCpuSeconds ?? 0)) / Math.max(0.001, outcome.activeSeconds ?? 0))} % of a core, event-loop delay p99/max ${fmt(outcome.loopDelayP99Ms ?? 0)}/${fmt(outcome.loopDelayMaxMs)} ms`),
    );
    console.log(
      `  load generator (this process): event-loop delay p99/max before ${loopText(i, 'before')}, during ${loopText(i, 'during')}, settle ${loopText(i, 'settle')} ms; ` +
        `issue lag p99/max before ${fmt(row.before.issueLagP99Ms)}/${fmt(row.before.issueLagMaxMs)}, during ${fmt(row.during.issueLagP99Ms)}/${fmt(row.during.issueLagMaxMs)} ms`,
    );
    if (outcome.baseline) console.log(`  quiet window: ${JSON.stringify(outcome.baseline)}`);
    console.log(
      `  attack: ${JSON.stringify(outcome.summary ?? { failure: outcome.failure })}; its process exited ${outcome.exitedAfterWindowMs} ms after its window`,
    );
  }
  const { lost, okTotal } = ledger.tally();
  console.log(
    `\nwhole run: ${ledger.total} legitimate sends, ${okTotal} 2xx, lost ${lost}, non-2xx ${JSON.stringify(ledger.non2xx())}, duplicates ${ledger.duplicateIds}, misrouted ${ledger.misrouted}` +
      `; unanswered ${ledger.total - run.answered()}; services that died: ${exits.length ? exits.join(', ') : 'none'}`,
  );
  console.log(ledger.acceptLine(' (whole run, after the warm-up)'));
  console.log(ledger.scheduleLine(loopDelay, run.peakOutstanding(), 20_000, run.waitedForSlot()));
  console.log(ledger.perSecondLines());
  if (ledger.firstError) console.log(`first legitimate error: ${ledger.firstError}`);
  const judged = judgeRounds(
    rows.map((r) => ({ key: r.result.attack.key, beforeP99Ms: r.before.p99Ms, duringP99Ms: r.during.p99Ms, reasons: r.verdict.reasons })),
  );
  if (options.rounds > 1) {
    console.log(
      `\nover ${options.rounds} rounds (median of the during/before p99 ratios; any loss, error rise or attack rule in a round fails):`,
    );
    for (const v of judged)
      console.log(
        `  ${v.key.padEnd(15)} ${(v.pass ? 'pass' : 'FAIL').padEnd(5)} median ${fmt(v.medianRatio)}× (rounds ${v.ratios.map((x) => `${fmt(x)}×`).join(', ')})${v.pass ? '' : `: ${v.reasons.join('; ')}`}`,
      );
  }
  console.log(
    `verdict: ${judged.filter((v) => v.pass).length} of ${judged.length} attacks held (p99 ≤ 2× a before-p99 of at most 1 s${options.rounds > 1 ? `, median of ${options.rounds} rounds` : ''}, errors ≤ max(1 %, before), nothing lost)`,
  );
  const figures = (f: PhaseFigures) => ({
    sends: f.sends,
    errors: f.errors,
    lost: f.lost,
    p50Ms: round(f.p50Ms),
    p99Ms: round(f.p99Ms),
    issueLagP99Ms: round(f.issueLagP99Ms),
  });
  const loopFigures = (i: number, part: PhasePart) => {
    const f = phaseLoopDelay.of(i, part);
    return f ? { p99Ms: round(f.p99Ms), maxMs: round(f.maxMs) } : null;
  };
  console.log(
    JSON.stringify({
      rate: options.rate,
      rounds: options.rounds,
      verdicts: judged,
      seconds: options.seconds,
      before: options.before,
      devices: devices.length,
      attacks: rows.map((r, i) => ({
        key: r.result.attack.key,
        offered: r.result.attack.offered,
        unit: r.result.attack.unit,
        sentPerSecond: r.result.outcome.sentPerSecond === undefined ? null : round(r.result.outcome.sentPerSecond),
        clientLoopDelay: { before: loopFigures(i, 'before'), during: loopFigures(i, 'during') },
        attackProcess: {
          loopDelayP99Ms: round(r.result.outcome.loopDelayP99Ms ?? 0),
          loopDelayMaxMs: round(r.result.outcome.loopDelayMaxMs ?? 0),
          runCpuSeconds: round(r.result.outcome.runCpuSeconds ?? 0),
        },
        pass: r.verdict.pass,
        reasons: r.verdict.reasons,
        before: figures(r.before),
        during: figures(r.during),
        settle: figures(r.settle),
        lost: r.lost,
        rssMiB: Object.fromEntries(
          Object.entries(r.rss).map(([k, v]) => [
            k,
            { before: v.before === null ? null : round(v.before, 0), during: v.during === null ? null : round(v.during, 0) },
          ]),
        ),
        baseline: r.result.outcome.baseline,
        summary: r.result.outcome.summary ?? { failure: r.result.outcome.failure },
        exitedAfterWindowMs: r.result.outcome.exitedAfterWindowMs,
      })),
      lost,
      unanswered: ledger.total - run.answered(),
      died: exits,
      machinePct: round(machine.machinePct, 0),
      otherPct: round(machine.otherPct, 0),
      loadGeneratorPct: round(machine.selfPct, 0),
      attackProcessesPct: round(machine.groups.attacks, 0),
      cores: cpus().length,
    }),
  );
}

/** The homeserver as an attack process needs it: names and addresses. */
function wireHomeserver(hs: RunningHomeserver): WireTargets['alpha'] {
  return {
    label: hs.label,
    serverName: hs.serverName,
    databaseUrl: hs.databaseUrl,
    services: Object.fromEntries(SERVICE_KINDS.map((k) => [k, { baseUrl: hs.services[k].baseUrl }])) as WireTargets['alpha']['services'],
  };
}

const holder: Holder = {
  services: [],
  homeservers: [],
  receivers: [],
  attacks: [],
  closeFirst: [],
  stops: [],
};
const stopEverything = async (): Promise<void> => {
  holder.attacks.forEach((attack) => attack.kill());
  terminateAll(holder.receivers);
  const report = (error: unknown) => process.stderr.write(`clean-up: ${(error as Error).message}\n`);
  // The legitimate pools first, while the services still run.
  for (const close of holder.closeFirst) await close().catch(report);
  await Promise.all(holder.homeservers.map((hs) => hs.stop()));
  for (const service of [...holder.services].reverse()) await service.stop().catch(() => undefined);
  // The blackhole, then the databases' schemas (the outbox the attacks filled).
  for (const stop of [...holder.stops].reverse())
    await stop().catch((error: unknown) => process.stderr.write(`clean-up: ${(error as Error).message}\n`));
};
runBench(() => main(holder), stopEverything, 'both homeservers');
