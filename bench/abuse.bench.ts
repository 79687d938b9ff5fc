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
 * capped in count as well as time, and stops by itself.
 *
 *   npm run bench:abuse -- [--attacks 1,2,ack-flood,...] [--seconds 20] [--before 10] [--settle 5] [--warmup 5]
 *                          [--rate 200] [--devices 20] [--drain 30]
 *
 * Databases sealpost_bench_abuse_alpha and sealpost_bench_abuse_beta (schemas dropped before the
 * run and after it: the attacks fill the outbox), fresh Redis prefixes, temporary KEYS_DIRs.
 */
import { setMaxListeners } from 'node:events';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Attack, AttackSummary } from './support/abuse-attack';
import { ackFlood, strangerFlood } from './support/abuse-account-attacks';
import { heldBodies, hugeUnsignedBodies, malformedJunk, newOriginLookups, remoteSealedSends } from './support/abuse-http-attacks';
import { LegitLoad, PhaseFigures, registerLegitDevices } from './support/abuse-legit-load';
import { AbuseTimeline, sleepUntil } from './support/abuse-timeline';
import { parseArgs } from './support/bench-args';
import { runBench } from './support/bench-main';
import { BlackholeServer } from './support/blackhole-server';
import { WindowCpuSampler } from './support/cpu-accounting';
import { DeliveryLedger, fmt, round } from './support/delivery-ledger';
import { RunningHomeserver, SERVICE_KINDS, startFederation } from './support/federated-homeservers';
import { resetSchemas } from './support/homeserver';
import { runOpenLoop } from './support/open-loop';
import { PhaseRssSampler } from './support/phase-rss-sampler';
import type { ServiceProcess } from './support/service-process';
import { WsReceiver, terminateAll } from './support/ws-receiver';

const ALPHA = { label: 'alpha', serverName: 'alpha.test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/sealpost_bench_abuse_alpha' };
const BETA = { label: 'beta', serverName: 'beta.test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/sealpost_bench_abuse_beta' };
const SCHEMAS = ['directory', 'relay', 'federation'];
const ATTACK_KEYS = ['huge-bodies', 'remote-sealed', 'ack-flood', 'held-bodies', 'stranger-flood', 'new-origins', 'junk'];
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
  attacks: string[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = { seconds: 20, before: 10, settle: 5, warmup: 5, rate: 200, devices: 20, drain: 30, attacks: ATTACK_KEYS };
  const names: Record<string, keyof Omit<Options, 'attacks'>> = {
    '--seconds': 'seconds',
    '--before': 'before',
    '--settle': 'settle',
    '--warmup': 'warmup',
    '--rate': 'rate',
    '--devices': 'devices',
    '--drain': 'drain',
  };
  const usage = `usage: [--attacks 1,2,${ATTACK_KEYS[2]},...] [${Object.keys(names).join(' N] [')} N]; attacks: ${ATTACK_KEYS.map((k, i) => `${i + 1}=${k}`).join(' ')}`;
  parseArgs(argv, options, names, usage, {
    '--attacks': (list) => {
      options.attacks = list.split(',').map((item) => {
        const key = /^\d+$/.test(item.trim()) ? ATTACK_KEYS[Number(item) - 1] : item.trim();
        if (!ATTACK_KEYS.includes(key)) throw new Error(`--attacks: unknown "${item}"; ${usage}`);
        return key;
      });
    },
  });
  if (options.seconds <= 0 || options.before <= 0 || options.rate <= 0 || options.devices < 2) {
    throw new Error('--seconds, --before and --rate must be positive, --devices at least 2');
  }
  return options;
}

function buildAttacks(targets: Parameters<typeof hugeUnsignedBodies>[0], runTag: string): Record<string, Attack> {
  return {
    'huge-bodies': hugeUnsignedBodies(targets, { mib: 40, concurrent: 3, cap: 12 }),
    'remote-sealed': remoteSealedSends(targets, { destinations: 100, messages: 8, contentKiB: 128, concurrent: 4, cap: 200 }),
    'ack-flood': ackFlood(targets, { sockets: 2, framesPerSocket: 2000, runTag }),
    'held-bodies': heldBodies(targets, { connections: 200, declaredBytes: 4_000_000, sentBytes: 3_900_000, cap: 2000 }),
    'stranger-flood': strangerFlood(targets, { strangerRate: 100, legitRate: 2, runTag }),
    'new-origins': newOriginLookups(targets, { origins: 100, concurrent: 50, cap: 5000 }),
    junk: malformedJunk(targets, { concurrent: 16, cap: 20_000 }),
  };
}

interface AttackResult {
  attack: Attack;
  baseline?: AttackSummary;
  summary?: AttackSummary;
  failure?: string;
  /** How long after its window the attack took to stop, ms. */
  overrunMs: number;
}

/** Runs each attack in its slot of the timeline: the baseline in the quiet window, the attack in its own. */
async function driveAttacks(attacks: Attack[], timeline: AbuseTimeline): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  for (const slot of timeline.slots) {
    const attack = attacks[slot.index];
    const result: AttackResult = { attack, overrunMs: 0 };
    results.push(result);
    await sleepUntil(slot.beforeStart);
    const quiet = new AbortController();
    setMaxListeners(0, quiet.signal); // every worker loop of an attack waits on the signal
    const baseline = attack.baseline?.(quiet.signal);
    await sleepUntil(slot.duringStart);
    quiet.abort();
    result.baseline = await baseline;
    const window = new AbortController();
    setMaxListeners(0, window.signal);
    const stopAt = setTimeout(() => window.abort(), Math.max(0, Number(slot.duringEnd - process.hrtime.bigint()) / 1e6));
    process.stderr.write(`attack ${attack.key}: ${attack.title}\n`);
    try {
      result.summary = await attack.run(window.signal);
    } catch (error) {
      result.failure = (error as Error).message;
    }
    clearTimeout(stopAt);
    window.abort();
    result.overrunMs = Math.max(0, Math.round(Number(process.hrtime.bigint() - slot.duringEnd) / 1e6));
  }
  return results;
}

interface Holder {
  services: ServiceProcess[];
  homeservers: RunningHomeserver[];
  receivers: WsReceiver[];
  /** Closed before the services stop (attack sockets and pools, the legitimate pools). */
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
  const share = (s?: AttackSummary) => Number(s?.legit429SharePct ?? 0);
  if (result.attack.key === 'stranger-flood' && share(result.summary) > share(result.baseline) + 5)
    reasons.push(`friend's 429 share ${share(result.summary)} % (before ${share(result.baseline)} %)`);
  if (result.failure) reasons.push(`attack failed: ${result.failure}`);
  return { pass: reasons.length === 0, reasons };
}

async function main(holder: Holder): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = Date.now();
  const { blackhole, url: blackholeUrl } = await BlackholeServer.listen();
  holder.stops.push(() => blackhole.close());
  const voidServers = Array.from({ length: VOID_SERVERS }, (_, i) => `void${i}.test`);
  const [alpha, beta] = await startFederation(
    [ALPHA, BETA],
    { extraPeers: Object.fromEntries(voidServers.map((s) => [s, blackholeUrl])) },
    holder,
  );
  holder.homeservers.push(alpha, beta);
  holder.stops.push(() => Promise.all([ALPHA, BETA].map((hs) => resetSchemas(hs.databaseUrl, SCHEMAS))).then(() => undefined));
  console.log(`started alpha.test and beta.test, 3 processes each, default limits (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);

  const runTag = randomBytes(3).toString('hex');
  const devices = await registerLegitDevices([alpha, beta], options.devices, runTag);
  const all = buildAttacks({ alpha, beta, voidServers, blackhole }, runTag);
  const attacks = options.attacks.map((key) => all[key]);
  for (const attack of attacks) await attack.prepare?.();
  holder.closeFirst.push(() => Promise.all(attacks.map((a) => a.dispose?.())).then(() => undefined));

  const perAttack = options.before + options.seconds + options.settle;
  const ledger = new DeliveryLedger({ rate: options.rate, warmup: options.warmup, seconds: attacks.length * perAttack });
  const load = new LegitLoad(devices, ledger);
  holder.closeFirst.push(() => load.close());
  await load.connect(holder.receivers);
  await load.primeFederation();
  console.log(
    `setup: ${devices.length} legitimate devices (${options.devices} per server) registered and connected; attacks prepared (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
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
  const run = runOpenLoop({
    rate: options.rate,
    total: ledger.total,
    maxOutstanding: 20_000,
    t0: ledger.t0,
    start: (seq) => load.send(seq),
  });
  const results = await driveAttacks(attacks, timeline);
  await run.issued;
  const machine = cpu.report(Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, [pid]])));
  loopDelay.disable();
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
    `legitimate load: ${options.rate} sends/s open model, ${devices.length} devices on both servers (own source address each), half sealed / half identified, 64-512 B content, to a random other device; latency from the INTENDED send time to arrival`,
  );
  console.log(
    `machine during the run: ${fmt(machine.machinePct)} % of ${cpus().length * 100} %; processes outside this bench ${fmt(machine.otherPct)} %` +
      (machine.topOthers.length ? ` (${machine.topOthers.map((o) => `${o.pct.toFixed(0)}% ${o.command.slice(0, 40)}`).join('; ')})` : ''),
  );
  const short = (name: string) => name.replace('alpha-', 'a-').replace('beta-', 'b-').replace('directory', 'dir').replace('gateway', 'gw');
  console.log('');
  console.log(
    `${'attack'.padEnd(15)} ${'verdict'.padEnd(7)} ${'p99 ms before → during'.padEnd(24)} ${'errors % before → during'.padEnd(25)} lost  RSS MiB max before → during (${rss.names.map(short).join(' ')})`,
  );
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
    console.log(
      `${result.attack.key.padEnd(15)} ${(verdict.pass ? 'pass' : 'FAIL').padEnd(7)} ${`${fmt(before.p99Ms)} → ${fmt(during.p99Ms)}`.padEnd(24)} ${`${fmt(errPct(before))} → ${fmt(errPct(during))}`.padEnd(25)} ${String(lost).padEnd(5)} ${rssText}`,
    );
    return { result, before, during, settle, lost, verdict, rss: Object.fromEntries(rss.names.map((n) => [n, rssOf(n)])) };
  });
  console.log('');
  for (const row of rows) {
    console.log(`${row.result.attack.key}: ${row.result.attack.title}`);
    if (!row.verdict.pass) console.log(`  FAIL: ${row.verdict.reasons.join('; ')}`);
    if (row.result.baseline) console.log(`  quiet window: ${JSON.stringify(row.result.baseline)}`);
    console.log(
      `  attack: ${JSON.stringify(row.result.summary ?? { failure: row.result.failure })}; stopped ${row.result.overrunMs} ms after its window`,
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
  console.log(
    `verdict: ${rows.filter((r) => r.verdict.pass).length} of ${rows.length} attacks held (p99 ≤ 2× a before-p99 of at most 1 s, errors ≤ max(1 %, before), nothing lost)`,
  );
  const figures = (f: PhaseFigures) => ({ sends: f.sends, errors: f.errors, lost: f.lost, p50Ms: round(f.p50Ms), p99Ms: round(f.p99Ms) });
  console.log(
    JSON.stringify({
      rate: options.rate,
      seconds: options.seconds,
      before: options.before,
      devices: devices.length,
      attacks: rows.map((r) => ({
        key: r.result.attack.key,
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
        baseline: r.result.baseline,
        summary: r.result.summary ?? { failure: r.result.failure },
        overrunMs: r.result.overrunMs,
      })),
      lost,
      unanswered: ledger.total - run.answered(),
      died: exits,
      machinePct: round(machine.machinePct, 0),
      otherPct: round(machine.otherPct, 0),
      cores: cpus().length,
    }),
  );
}

const holder: Holder = {
  services: [],
  homeservers: [],
  receivers: [],
  closeFirst: [],
  stops: [],
};
const stopEverything = async (): Promise<void> => {
  terminateAll(holder.receivers);
  const report = (error: unknown) => process.stderr.write(`clean-up: ${(error as Error).message}\n`);
  // The attacks' sockets and pools and the legitimate pools first, while the services still run.
  for (const close of holder.closeFirst) await close().catch(report);
  await Promise.all(holder.homeservers.map((hs) => hs.stop()));
  for (const service of [...holder.services].reverse()) await service.stop().catch(() => undefined);
  // Attack resources, the legitimate pools, the blackhole, then the databases' schemas (the outbox the attacks filled).
  for (const stop of [...holder.stops].reverse())
    await stop().catch((error: unknown) => process.stderr.write(`clean-up: ${(error as Error).message}\n`));
};
runBench(() => main(holder), stopEverything, 'both homeservers');
