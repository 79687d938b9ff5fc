/**
 * Relay send → deliver, open model: N connected devices send sealed-sender envelopes to each
 * other through ONE relay process at a constant arrival rate; latency runs from each send's
 * INTENDED time (t0 + i/R) to its arrival at the recipient's socket, so a stalled relay shows up
 * in the latency instead of silently lowering the offered load (no coordinated omission).
 *
 *   npm run bench:relay -- [--rate 3000] [--seconds 20] [--warmup 3] [--accounts 200] [--drain 5]
 *                          [--http-connections 1024] [--max-outstanding 20000] [--cpu-prof DIR]
 *
 * Spawns a prekey directory and a relay (database sealpost_bench_relay, its `directory` and
 * `relay` schemas dropped first, a fresh Redis prefix). Relay tuning env vars (GROUP_COMMIT_*,
 * RELAY_DB_POOL_SIZE, MAX_IN_FLIGHT_PER_SOCKET, ...) set in the caller's environment pass through.
 * `--cpu-prof DIR` writes a V8 CPU profile of the relay into DIR when it stops.
 *
 * Request bodies are all built before the clock starts. The HTTP side is one undici Pool with
 * many keep-alive connections (default 1024): with few connections the generator would cap the
 * relay's concurrency (a closed system in disguise), and the relay's group commit batches grow
 * with concurrency, so a small pool understates what it can absorb after a stall.
 * The report's "other" CPU is what the rest of the machine did meanwhile: on a shared machine,
 * compare runs only when it is small.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { mapConcurrent } from './support/closed-loop';
import { LatencyHistogram } from './support/histogram';
import { DbCounters, Homeserver, Registered, databaseCounters, exitOnSigtermPreload, postJson, postgresPids, resetSchemas, startHomeserver } from './support/homeserver';
import { CpuSampler, CpuUse, machineTicks, pidsByName, rssMiB } from './support/proc-stats';
import type { ServiceProcess } from './support/service-process';
import { benchAccountKeys } from './support/signal-devices';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sealpost_bench_relay';
/** Rate limits raised so the bench measures the relay, not its token buckets. */
const RATE_ENV = {
  SEND_RATE_BURST: '100000000', SEND_RATE_PER_MINUTE: '1000000000', RECEIVE_RATE_BURST: '100000000', RECEIVE_RATE_PER_MINUTE: '1000000000',
};
/** Sealed-sender envelope type (carried opaquely by the relay). */
const SEALED_SENDER_TYPE = 6;
const MIN_CONTENT = 64;
const MAX_CONTENT = 512;
/** Content header: 4 bytes of this run's magic, 4 bytes of the send's sequence number. */
const HEADER_BYTES = 8;
const EMPTY = Buffer.alloc(0);

interface Options {
  rate: number; seconds: number; warmup: number; accounts: number; drain: number; httpConnections: number; maxOutstanding: number; cpuProfDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { rate: 3000, seconds: 20, warmup: 3, accounts: 200, drain: 5, httpConnections: 1024, maxOutstanding: 20_000 };
  const names: Record<string, keyof Omit<Options, 'cpuProfDir'>> = {
    '--rate': 'rate', '--seconds': 'seconds', '--warmup': 'warmup', '--accounts': 'accounts', '--drain': 'drain',
    '--http-connections': 'httpConnections', '--max-outstanding': 'maxOutstanding',
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--cpu-prof' && argv[i + 1]) {
      options.cpuProfDir = resolve(argv[i + 1]);
      continue;
    }
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isFinite(value) || value < 0) throw new Error(`usage: [${Object.keys(names).join(' N] [')} N] [--cpu-prof DIR]`);
    options[key] = value;
  }
  if (options.accounts < 2 || options.rate <= 0 || options.httpConnections < 1 || options.maxOutstanding < 1) {
    throw new Error('--accounts must be at least 2; --rate, --http-connections and --max-outstanding positive');
  }
  return options;
}

interface Account extends Registered { index: number; registrationId: number; unidentifiedAccessKey: string; path: string }

/** One account's device 1 socket: records each envelope and acks it (acks batched per event-loop turn). */
class Receiver {
  queueEmpty = false;
  private pendingAcks: string[] = [];
  private flushScheduled = false;

  constructor(readonly socket: WebSocket, onEnvelope: (envelope: { id: string; content: string }, receiver: Receiver) => void) {
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (text.startsWith('{"type":"envelope"')) {
        const { envelope } = JSON.parse(text) as { envelope: { id: string; content: string } };
        onEnvelope(envelope, this);
        this.ack(envelope.id);
      } else if (text === '{"type":"queue-empty"}') {
        this.queueEmpty = true;
      }
    });
  }

  private ack(id: string): void {
    this.pendingAcks.push(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const ids = this.pendingAcks;
      this.pendingAcks = [];
      if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'ack', ids }));
    });
  }
}

function connect(wsUrl: string, token: string, onEnvelope: (envelope: { id: string; content: string }, receiver: Receiver) => void, index: number): Promise<Receiver> {
  return new Promise((resolvePromise, reject) => {
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const receiver = new Receiver(socket, onEnvelope);
    socket.once('open', () => resolvePromise(receiver));
    socket.once('unexpected-response', (_req, res) => reject(new Error(`socket ${index}: HTTP ${res.statusCode}`)));
    socket.once('error', reject);
    socket.on('close', (code) => {
      if (!closing) process.stderr.write(`socket of account ${index} closed unexpectedly (code ${code})\n`);
    });
  });
}
let closing = false;

const fmt = (value: number): string => value.toFixed(2);
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

function cpuLine(cpu: CpuUse): string {
  const groups = Object.entries(cpu.groups).map(([name, pct]) => `${name} ${pct.toFixed(0)}%`).join(', ');
  return `${groups}, bench client ${cpu.selfPct.toFixed(0)}%, anything else ${cpu.otherPct.toFixed(0)}%; machine ${cpu.machinePct.toFixed(0)}% of ${cpus().length * 100}%`;
}

async function main(holder: { services: ServiceProcess[]; stopping?: boolean; homeserver?: Homeserver }): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await resetSchemas(DATABASE_URL, ['directory', 'relay']);
  const homeserver = await startHomeserver({
    databaseUrl: DATABASE_URL,
    relayEnv: RATE_ENV,
    relayNodeArgs: options.cpuProfDir ? ['-r', exitOnSigtermPreload(), '--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
  }, holder);
  holder.homeserver = homeserver;
  const { directory, relay } = homeserver;
  const directoryHttp = new Pool(directory.baseUrl, { connections: 8 });
  const relayHttp = new Pool(relay.baseUrl, { connections: options.httpConnections, pipelining: 1 });
  const receivers: Receiver[] = [];
  try {
    // ---- setup (not measured): accounts, one connected device each ----
    const setupStart = Date.now();
    const accounts = await mapConcurrent(Array.from({ length: options.accounts }, (_, i) => i), 8, async (index): Promise<Account> => {
      const keys = benchAccountKeys(`relaybench${index}`);
      const registered = await postJson<Registered>(directoryHttp, '/v1/accounts', keys.registration);
      return {
        ...registered, index, registrationId: keys.registration.registrationId, unidentifiedAccessKey: keys.unidentifiedAccessKey,
        path: `/v1/messages/${encodeURIComponent(registered.address)}`,
      };
    });
    const registerSeconds = (Date.now() - setupStart) / 1000;

    const magic = randomBytes(4).readUInt32BE(0);
    const total = Math.round(options.rate * (options.warmup + options.seconds));
    const warmupCount = Math.round(options.rate * options.warmup);
    const recipientOf = new Int32Array(total).fill(-1);
    const statusOf = new Uint16Array(total); // 0 = no answer (yet) or network error
    const receivedCount = new Uint8Array(total);
    const seenIds = new Set<string>();
    let duplicateIds = 0;
    let misrouted = 0;
    let foreign = 0;
    let receivedTotal = 0;
    let receivedInWindow = 0;
    const latency = new LatencyHistogram(); // measured sends: intended send → delivered
    const acceptLatency = new LatencyHistogram(); // measured sends: intended send → 2xx answer
    const issueLag = new LatencyHistogram(); // every send: intended → actually issued by this client
    let t0 = 0n;
    let windowStart = 0n;
    let windowEnd = 0n;
    const nsPerSend = 1e9 / options.rate;
    /** Per second since t0 (warm-up included): deliveries, 2xx answers, and delivery latencies. */
    const seconds = Math.ceil(options.warmup + options.seconds) + 1;
    const perSecond = Array.from({ length: seconds }, () => ({ delivered: 0, ok: 0, latency: new LatencyHistogram(), outstanding: 0 }));
    const secondOf = (ns: bigint): number => Math.max(0, Math.min(seconds - 1, Math.floor(Number(ns - t0) / 1e9)));
    const intendedNs = (seq: number): bigint => t0 + BigInt(Math.round(seq * nsPerSend));

    const onEnvelope = (envelope: { id: string; content: string }, receiver: Receiver): void => {
      const now = process.hrtime.bigint();
      if (seenIds.has(envelope.id)) duplicateIds++;
      else seenIds.add(envelope.id);
      const content = Buffer.from(envelope.content, 'base64');
      if (content.length < HEADER_BYTES || content.readUInt32BE(0) !== magic) {
        foreign++;
        return;
      }
      const seq = content.readUInt32BE(4);
      if (seq >= total) {
        foreign++;
        return;
      }
      receivedTotal++;
      if (receivedCount[seq] < 255) receivedCount[seq]++;
      if (recipientOf[seq] !== receiverIndex.get(receiver)) misrouted++;
      if (now >= windowStart && now < windowEnd) receivedInWindow++;
      if (seq >= warmupCount && receivedCount[seq] === 1) latency.recordSince(intendedNs(seq));
      const slot = perSecond[secondOf(now)];
      slot.delivered++;
      if (receivedCount[seq] === 1) slot.latency.recordSince(intendedNs(seq));
    };
    const receiverIndex = new Map<Receiver, number>();
    const wsUrl = `${relay.baseUrl.replace(/^http/, 'ws')}/v1/websocket`;
    const connectStart = Date.now();
    const connected = await mapConcurrent(accounts, 50, (account) => connect(wsUrl, account.token, onEnvelope, account.index));
    connected.forEach((r, i) => { receivers.push(r); receiverIndex.set(r, i); });
    const deadline = Date.now() + 10_000;
    while (receivers.some((r) => !r.queueEmpty) && Date.now() < deadline) await sleep(20);
    const notEmpty = receivers.filter((r) => !r.queueEmpty).length;
    if (notEmpty) throw new Error(`${notEmpty} sockets did not say queue-empty`);
    console.log(`setup: ${options.accounts} accounts registered (${registerSeconds.toFixed(1)} s), ${receivers.length} sockets open and drained (${((Date.now() - connectStart) / 1000).toFixed(1)} s)`);

    // What the rest of the machine is doing right before the load (other sessions, builds, tests).
    const idleStart = machineTicks();
    await sleep(1000);
    const idleEnd = machineTicks();
    const busyBefore = (100 * cpus().length * (idleEnd.busy - idleStart.busy)) / Math.max(1, idleEnd.total - idleStart.total);
    console.log(`machine busy in the second before the load: ${busyBefore.toFixed(0)}% of ${cpus().length * 100}%${busyBefore > 20 ? ' — something else is running; figures will suffer' : ''}`);

    // ---- open-model load ----
    const randomPool = randomBytes(1 << 20);
    const statusCounts = new Map<string, number>();
    let firstError = '';
    let outstanding = 0;
    let peakOutstanding = 0;
    let waitedForSlot = 0;
    const waiting: number[] = [];
    let answered = 0;

    // Every request body is built before the clock starts, so the generator spends the run sending.
    const prepareStart = Date.now();
    const bodies: Buffer[] = new Array(total);
    const wallT0 = Date.now() + 1000;
    for (let seq = 0; seq < total; seq++) {
      const from = Math.floor(Math.random() * accounts.length);
      let to = Math.floor(Math.random() * (accounts.length - 1));
      if (to >= from) to++;
      recipientOf[seq] = to;
      const size = MIN_CONTENT + Math.floor(Math.random() * (MAX_CONTENT - MIN_CONTENT + 1));
      const content = Buffer.allocUnsafe(size);
      content.writeUInt32BE(magic, 0);
      content.writeUInt32BE(seq, 4);
      const offset = Math.floor(Math.random() * (randomPool.length - size));
      randomPool.copy(content, HEADER_BYTES, offset, offset + size - HEADER_BYTES);
      bodies[seq] = Buffer.from(JSON.stringify({
        timestamp: wallT0 + Math.round(seq * 1000 / options.rate),
        messages: [{ deviceId: 1, registrationId: accounts[to].registrationId, type: SEALED_SENDER_TYPE, content: content.toString('base64') }],
      }));
    }
    console.log(`prepared ${total} request bodies (${((Date.now() - prepareStart) / 1000).toFixed(1)} s)`);

    const send = (seq: number): void => {
      const recipient = accounts[recipientOf[seq]];
      const body = bodies[seq];
      outstanding++;
      if (outstanding > peakOutstanding) peakOutstanding = outstanding;
      if (seq >= warmupCount) issueLag.recordSince(intendedNs(seq));
      relayHttp.request({
        method: 'PUT', path: recipient.path, body,
        headers: { 'content-type': 'application/json', 'unidentified-access-key': recipient.unidentifiedAccessKey },
      }).then(async (answer) => {
        const status = answer.statusCode;
        if (status >= 200 && status < 300) {
          await answer.body.dump();
          perSecond[secondOf(process.hrtime.bigint())].ok++;
          if (seq >= warmupCount) acceptLatency.recordSince(intendedNs(seq));
        } else {
          const text = await answer.body.text();
          if (!firstError) firstError = `${status} ${text.slice(0, 300)}`;
        }
        statusOf[seq] = status;
        statusCounts.set(String(status), (statusCounts.get(String(status)) ?? 0) + 1);
      }, (error: Error) => {
        const key = `error:${(error as { code?: string }).code ?? error.name}`;
        statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
        if (!firstError) firstError = `${key} ${error.message}`;
      }).finally(() => {
        bodies[seq] = EMPTY;
        outstanding--;
        answered++;
        const next = waiting.shift();
        if (next !== undefined) send(next);
      });
    };

    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let issued = 0;
    let sampler: CpuSampler | undefined;
    let cpuUse: CpuUse | undefined;
    const pg = await postgresPids(DATABASE_URL); // pools are open by now (registration, socket drains)
    t0 = process.hrtime.bigint() + 5_000_000n;
    windowStart = t0 + BigInt(Math.round(options.warmup * 1e9));
    windowEnd = windowStart + BigInt(Math.round(options.seconds * 1e9));
    const startSampler = () => new CpuSampler({
      relay: [relay.pid], directory: [directory.pid], 'postgres (relay backends)': pg.relay, 'postgres (directory backends)': pg.directory,
      'postgres (background)': pg.background, 'redis (shared)': pidsByName('redis-server'),
    });
    let dbAtStart: Promise<DbCounters> | undefined;
    let dbAtEnd: Promise<DbCounters> | undefined;
    let measuredRss: { relay: number | null; directory: number | null; client: number } | undefined;
    await new Promise<void>((done) => {
      const tick = (): void => {
        const now = process.hrtime.bigint();
        if (!sampler && now >= windowStart) {
          sampler = startSampler();
          dbAtStart = databaseCounters(DATABASE_URL);
          loopDelay.enable();
        }
        if (sampler && !cpuUse && now >= windowEnd) {
          cpuUse = sampler.finish();
          dbAtEnd = databaseCounters(DATABASE_URL);
          loopDelay.disable();
          measuredRss = { relay: rssMiB(relay.pid), directory: rssMiB(directory.pid), client: process.memoryUsage().rss / 1048576 };
        }
        if (now >= t0) perSecond[secondOf(now)].outstanding = outstanding;
        const due = now < t0 ? 0 : Math.min(total, Math.floor(Number(now - t0) / nsPerSend) + 1);
        while (issued < due) {
          const seq = issued++;
          if (outstanding >= options.maxOutstanding) {
            waitedForSlot++;
            waiting.push(seq);
          } else {
            send(seq);
          }
        }
        if (issued < total || !cpuUse) setTimeout(tick, 1);
        else done();
      };
      tick();
    });
    const sendsDoneAt = Date.now();

    // ---- drain: every answer in, then every 2xx'd envelope delivered (or the drain time is up) ----
    while ((outstanding > 0 || waiting.length > 0) && Date.now() - sendsDoneAt < 120_000) await sleep(20);
    const answersDoneAt = Date.now();
    const countOk = (): number => { let n = 0; for (let i = 0; i < total; i++) if (statusOf[i] >= 200 && statusOf[i] < 300) n++; return n; };
    const okTotal = countOk();
    const missing = (): number => { let n = 0; for (let i = 0; i < total; i++) if (statusOf[i] >= 200 && statusOf[i] < 300 && receivedCount[i] === 0) n++; return n; };
    while (missing() > 0 && Date.now() - answersDoneAt < options.drain * 1000) await sleep(50);
    await sleep(500); // late duplicates, if any
    let lost = 0;
    let receivedWithoutOk = 0;
    let duplicateSeqs = 0;
    let okMeasured = 0;
    let deliveredMeasured = 0;
    for (let i = 0; i < total; i++) {
      const ok = statusOf[i] >= 200 && statusOf[i] < 300;
      if (ok && receivedCount[i] === 0) lost++;
      if (!ok && receivedCount[i] > 0) receivedWithoutOk++;
      if (receivedCount[i] > 1) duplicateSeqs++;
      if (i >= warmupCount) {
        if (ok) okMeasured++;
        if (receivedCount[i] > 0) deliveredMeasured++;
      }
    }
    const unanswered = total - answered;
    const rss = measuredRss ?? { relay: rssMiB(relay.pid), directory: rssMiB(directory.pid), client: process.memoryUsage().rss / 1048576 };
    const cpu = cpuUse as CpuUse;
    const deliveriesPerSec = receivedInWindow / options.seconds;
    const non2xx = Object.fromEntries([...statusCounts].filter(([k]) => !/^2\d\d$/.test(k)));

    const [dbStart, dbEnd] = await Promise.all([dbAtStart, dbAtEnd]) as [DbCounters, DbCounters];
    const perDelivery = (key: keyof DbCounters): string => ((dbEnd[key] - dbStart[key]) / Math.max(1, receivedInWindow)).toFixed(2);

    // ---- report ----
    console.log('');
    console.log(`relay bench: 1 relay + 1 directory process, open-model sealed-sender sends from this one client process, ${cpus().length} cores, node ${process.version}`);
    console.log(`NOTE: relay rate limits raised for the bench (${Object.entries(RATE_ENV).map(([k, v]) => `${k}=${v}`).join(', ')}); the defaults (600/min per sender, 1200/min per recipient) would throttle it.`);
    const tuning = ['MAX_IN_FLIGHT_PER_SOCKET', 'GROUP_COMMIT_MAX_BATCH', 'GROUP_COMMIT_MAX_WAIT_MS', 'RELAY_DB_POOL_SIZE', 'QUEUE_CAP_PER_DEVICE'].map((k) => `${k}=${process.env[k] ?? 'default'}`).join(', ');
    console.log(`relay config: ${tuning}; client: undici Pool of ${options.httpConnections} keep-alive connections, ${options.accounts} sockets (auto-ack, batched per event-loop turn)`);
    console.log(`load: PUT /v1/messages/{address} sealed (Unidentified-Access-Key, no Authorization), ${MIN_CONTENT}-${MAX_CONTENT} B content, random sender → random other account; ${options.warmup} s warm-up + ${options.seconds} s measured at the same rate`);
    console.log(`offered          ${options.rate.toFixed(0)} envelopes/s  (${total - warmupCount} measured sends, ${total} in all)`);
    console.log(`achieved         ${deliveriesPerSec.toFixed(0)} deliveries/s in the measured window; ${deliveredMeasured} of ${okMeasured} measured 2xx'd sends delivered`);
    console.log(`send → deliver   p50 ${fmt(latency.percentileMs(50))}  p99 ${fmt(latency.percentileMs(99))}  p99.9 ${fmt(latency.percentileMs(99.9))}  max ${fmt(latency.maxMs)} ms  (from the INTENDED send time; ${latency.count} samples)`);
    console.log(`send → 2xx       p50 ${fmt(acceptLatency.percentileMs(50))}  p99 ${fmt(acceptLatency.percentileMs(99))}  p99.9 ${fmt(acceptLatency.percentileMs(99.9))}  max ${fmt(acceptLatency.maxMs)} ms`);
    console.log(`client schedule  issue lag p99 ${fmt(issueLag.percentileMs(99))} max ${fmt(issueLag.maxMs)} ms; event-loop delay p99 ${fmt(loopDelay.percentile(99) / 1e6)} max ${fmt(loopDelay.max / 1e6)} ms; ` +
      `peak outstanding ${peakOutstanding}, waited for a slot (cap ${options.maxOutstanding}) ${waitedForSlot}`);
    console.log(`http             2xx ${okTotal} of ${total}; non-2xx ${JSON.stringify(non2xx)}${unanswered ? `; unanswered ${unanswered}` : ''}`);
    console.log(`lost ${lost} (2xx'd, not received ${options.drain} s after the last answer)   duplicate ids ${duplicateIds}   duplicate sends ${duplicateSeqs}   misrouted ${misrouted}   received without 2xx ${receivedWithoutOk}   foreign ${foreign}`);
    console.log(`postgres per delivery (measured window, pg_stat_database of the bench database): ${perDelivery('xactCommit')} transactions ` +
      `(each statement outside BEGIN..COMMIT counts as one), ${perDelivery('tupInserted')} rows inserted, ${perDelivery('tupUpdated')} updated, ${perDelivery('tupDeleted')} deleted, ${perDelivery('tupReturned')} returned`);
    console.log(`cpu (% of one core, measured window): ${cpuLine(cpu)}`);
    const usPer = (pct: number): string => ((pct / 100) * options.seconds * 1e6 / Math.max(1, receivedInWindow)).toFixed(0);
    const pgPct = cpu.groups['postgres (relay backends)'] + cpu.groups['postgres (directory backends)'] + cpu.groups['postgres (background)'];
    const totalPct = cpu.groups.relay + cpu.groups.directory + pgPct + cpu.groups['redis (shared)'] + cpu.selfPct;
    console.log(`cpu per delivery: relay ${usPer(cpu.groups.relay)} µs, postgres ${usPer(pgPct)} µs, redis ${usPer(cpu.groups['redis (shared)'])} µs, ` +
      `bench client ${usPer(cpu.selfPct)} µs; all of these ${usPer(totalPct)} µs → at most ~${(cpus().length * 1e6 / Number(usPer(totalPct))).toFixed(0)} deliveries/s on ${cpus().length} cores ` +
      `if nothing else ran, and ~${(1e6 / Number(usPer(cpu.groups.relay))).toFixed(0)}/s before the relay's one event loop saturates`);
    console.log(`rss at end of window: relay ${rss.relay?.toFixed(1)} MiB, directory ${rss.directory?.toFixed(1)} MiB, bench client ${rss.client.toFixed(1)} MiB`);
    console.log(`per second (s: 2xx/s delivered/s p50/p99 ms, outstanding at end; first ${options.warmup} s warm-up):`);
    console.log(perSecond.slice(0, Math.ceil(options.warmup + options.seconds)).map((p, i) =>
      `  ${String(i).padStart(2)}: ${p.ok} ${p.delivered} ${p.latency.percentileMs(50).toFixed(0)}/${p.latency.percentileMs(99).toFixed(0)} ${p.outstanding}`).join('\n'));
    if (options.cpuProfDir) console.log(`relay CPU profile: written to ${options.cpuProfDir} when the relay stops`);
    if (firstError) console.log(`first error: ${firstError}`);
    console.log(JSON.stringify({
      offeredPerSec: options.rate, deliveriesPerSec: round(deliveriesPerSec, 1), p50Ms: round(latency.percentileMs(50)), p99Ms: round(latency.percentileMs(99)),
      p999Ms: round(latency.percentileMs(99.9)), maxMs: round(latency.maxMs), acceptP99Ms: round(acceptLatency.percentileMs(99)),
      non2xx, lost, duplicates: duplicateIds, duplicateSends: duplicateSeqs, misrouted, measuredSends: total - warmupCount, delivered: receivedTotal,
      waitedForSlot, cpuPct: {
        relay: round(cpu.groups.relay, 0), directory: round(cpu.groups.directory, 0),
        postgresBackends: round(cpu.groups['postgres (relay backends)'] + cpu.groups['postgres (directory backends)'], 0),
        postgresBackground: round(cpu.groups['postgres (background)'], 0), redis: round(cpu.groups['redis (shared)'], 0),
        client: round(cpu.selfPct, 0), other: round(cpu.otherPct, 0), machine: round(cpu.machinePct, 0),
      },
      cpuUsPerDelivery: { relay: Number(usPer(cpu.groups.relay)), postgres: Number(usPer(pgPct)), redis: Number(usPer(cpu.groups['redis (shared)'])), client: Number(usPer(cpu.selfPct)) },
      rssMiB: { relay: rss.relay === null ? null : round(rss.relay, 1), directory: rss.directory === null ? null : round(rss.directory, 1), client: round(rss.client, 1) },
      accounts: options.accounts, seconds: options.seconds, cores: cpus().length,
    }));
  } finally {
    closing = true;
    for (const r of receivers) r.socket.terminate();
    await relayHttp.close();
    await directoryHttp.close();
  }
}

const holder: { services: ServiceProcess[]; stopping?: boolean; homeserver?: Homeserver } = { services: [] };
const stopServices = async (): Promise<void> => {
  holder.stopping = true;
  closing = true;
  for (const service of [...holder.services].reverse()) await service.stop().catch(() => undefined);
};
process.once('SIGINT', () => {
  process.stderr.write('interrupted; stopping the relay and the directory\n');
  void stopServices().then(() => process.exit(130));
});
process.once('SIGTERM', () => void stopServices().then(() => process.exit(143)));

main(holder)
  .then(stopServices)
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    await stopServices();
    process.exit(1);
  });
