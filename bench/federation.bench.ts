/**
 * Federated delivery, open model: devices on homeserver alpha.test send envelopes to devices on
 * beta.test (both homeservers on this machine, three processes each). Every arrival is an
 * identified `PUT /v1/messages/{bob@beta.test}` on alpha's relay (bearer token of a random alpha
 * sender); the path is alpha relay → bus → alpha gateway → signed batch → beta gateway → bus →
 * beta relay → bob's socket. Latency runs from each send's INTENDED time (t0 + i/R) to its
 * arrival on bob's socket, so a stall shows up as latency, not as a lower offered load.
 *
 * Before the timed run, `--prewarm` sends (closed loop, 64 at a time, not measured) warm the JIT
 * of all seven processes, open the database pools and fill the caches: from cold, the first
 * seconds at full rate run far below it and the backlog they leave would dominate the window.
 * `--prewarm 0` measures from cold (after one priming send per sender).
 *
 *   npm run bench:federation -- [--rate 1500] [--seconds 20] [--warmup 3] [--senders 50] [--recipients 200]
 *                               [--prewarm 3000] [--drain 10] [--http-connections 256] [--max-outstanding 20000]
 *                               [--cpu-prof DIR] [--cpu-prof-services alpha-relay,alpha-gateway,beta-gateway,beta-relay]
 *
 * Databases sealpost_bench_fed_alpha and sealpost_bench_fed_beta (schemas directory, relay and
 * federation dropped first), fresh Redis prefixes, temporary KEYS_DIRs. Tuning env vars set in
 * the caller's environment (GROUP_COMMIT_*, RELAY_DB_POOL_SIZE, FEDERATION_DELIVERY_BATCH_SIZE,
 * GATEWAY_DB_POOL_SIZE, ...) pass through to all six services. `--cpu-prof DIR` writes V8 CPU
 * profiles (<server>-<service>.cpuprofile) of the chosen services into DIR when they stop.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Pool } from 'undici';
import { parseArgs } from './support/bench-args';
import { runBench } from './support/bench-main';
import { mapConcurrent } from './support/closed-loop';
import { DeliveryLedger, MAX_CONTENT, MIN_CONTENT, MeasuredWindow, fmt, round } from './support/delivery-ledger';
import {
  RunningHomeserver,
  SERVICE_KINDS,
  ServiceKind,
  postgresBackendsByService,
  postgresBackgroundPids,
  startFederation,
} from './support/federated-homeservers';
import { LatencyHistogram } from './support/histogram';
import { REDIS_URL, Registered, postJson } from './support/homeserver';
import { runOpenLoop } from './support/open-loop';
import { WindowCpu, WindowCpuSampler } from './support/cpu-accounting';
import { pidsByName, rssMiB } from './support/proc-stats';
import type { ServiceProcess } from './support/service-process';
import { benchAccountKeys } from './support/signal-devices';
import { ReceivedEnvelope, WsReceiver, connectAllDrained, terminateAll } from './support/ws-receiver';
import { UNLIMITED_RELAY_RATES } from './support/unlimited-rates';

const ALPHA = { label: 'alpha', serverName: 'alpha.test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/sealpost_bench_fed_alpha' };
const BETA = { label: 'beta', serverName: 'beta.test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/sealpost_bench_fed_beta' };
/** Signal whisper ciphertext (carried opaquely). */
const CIPHERTEXT_TYPE = 1;
const PRIME_SEQ = 0xffffffff;

interface Options {
  rate: number;
  seconds: number;
  warmup: number;
  senders: number;
  recipients: number;
  drain: number;
  prewarm: number;
  httpConnections: number;
  maxOutstanding: number;
  cpuProfDir?: string;
  cpuProfServices: string[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    rate: 1500,
    seconds: 20,
    warmup: 3,
    senders: 50,
    recipients: 200,
    drain: 10,
    prewarm: 3000,
    httpConnections: 256,
    maxOutstanding: 20_000,
    cpuProfServices: ['alpha-relay', 'alpha-gateway', 'beta-gateway', 'beta-relay'],
  };
  const names: Record<string, keyof Omit<Options, 'cpuProfDir' | 'cpuProfServices'>> = {
    '--rate': 'rate',
    '--seconds': 'seconds',
    '--warmup': 'warmup',
    '--senders': 'senders',
    '--recipients': 'recipients',
    '--drain': 'drain',
    '--prewarm': 'prewarm',
    '--http-connections': 'httpConnections',
    '--max-outstanding': 'maxOutstanding',
  };
  const usage = `usage: [${Object.keys(names).join(' N] [')} N] [--cpu-prof DIR] [--cpu-prof-services alpha-relay,alpha-gateway,...]`;
  parseArgs(argv, options, names, usage, {
    '--cpu-prof': (dir) => {
      options.cpuProfDir = resolve(dir);
    },
    '--cpu-prof-services': (list) => {
      options.cpuProfServices = list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const valid = ['alpha', 'beta'].flatMap((h) => SERVICE_KINDS.map((k) => `${h}-${k}`));
      const bad = options.cpuProfServices.filter((s) => !valid.includes(s));
      if (bad.length) throw new Error(`--cpu-prof-services: unknown ${bad.join(', ')} (valid: ${valid.join(', ')})`);
    },
  });
  if (options.senders < 1 || options.recipients < 1 || options.rate <= 0 || options.httpConnections < 1 || options.maxOutstanding < 1) {
    throw new Error('--senders, --recipients, --rate, --http-connections and --max-outstanding must be positive');
  }
  return options;
}

interface Recipient extends Registered {
  index: number;
  registrationId: number;
  path: string;
}

/** Anonymous resident memory (VmRSS less shared file/shmem pages) in MiB: fair for Postgres backends. */
function rssAnonMiB(pid: number): number {
  try {
    const match = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function outboxState(
  databaseUrl: string,
): Promise<{ depth: number; destinations: { destination: string; failures: number; lastError: string | null }[] }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const depth = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM federation.outbox')).rows[0].n);
    const { rows } = await client.query<{ destination: string; failures: number; last_error: string | null }>(
      'SELECT destination, failures, last_error FROM federation.destinations ORDER BY destination',
    );
    return { depth, destinations: rows.map((r) => ({ destination: r.destination, failures: r.failures, lastError: r.last_error })) };
  } finally {
    await client.end();
  }
}

/**
 * Signed federation requests beta's gateway has admitted lately, counted from its replay-protection
 * keys in Redis (`<prefix>fed:seen:{origin}:…`, one per admitted request, kept 2 × max skew + 5 s).
 * A peek at the gateway's internals, for the average batch size (0 if the key format changes).
 */
async function admittedFederationRequests(redisPrefix: string, origin: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}fed:seen:{${origin}}:*`, 'COUNT', 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  } finally {
    redis.disconnect();
  }
}

async function main(holder: { services: ServiceProcess[]; homeservers: RunningHomeserver[]; receivers: WsReceiver[] }): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const profiled = (label: string): ServiceKind[] =>
    options.cpuProfDir ? SERVICE_KINDS.filter((k) => options.cpuProfServices.includes(`${label}-${k}`)) : [];
  const startAt = Date.now();
  const [alpha, beta] = await startFederation(
    [
      { ...ALPHA, env: { relay: UNLIMITED_RELAY_RATES }, cpuProfile: profiled('alpha') },
      { ...BETA, env: { relay: UNLIMITED_RELAY_RATES }, cpuProfile: profiled('beta') },
    ],
    { cpuProfDir: options.cpuProfDir },
    holder,
  );
  holder.homeservers.push(alpha, beta);
  console.log(`started alpha.test and beta.test, 3 processes each (${((Date.now() - startAt) / 1000).toFixed(1)} s)`);

  const alphaDirectory = new Pool(alpha.services.directory.baseUrl, { connections: 8 });
  const betaDirectory = new Pool(beta.services.directory.baseUrl, { connections: 8 });
  const alphaRelay = new Pool(alpha.services.relay.baseUrl, { connections: options.httpConnections, pipelining: 1 });
  try {
    // ---- setup (not measured): senders on alpha, recipients on beta with one connected device each ----
    const setupStart = Date.now();
    const senders = await mapConcurrent(
      Array.from({ length: options.senders }, (_, i) => i),
      8,
      async (index) => {
        const keys = benchAccountKeys(`fedsender${index}`);
        const registered = await postJson<Registered>(alphaDirectory, '/v1/accounts', keys.registration);
        return { ...registered, authorization: `Bearer ${registered.token}` };
      },
    );
    const recipients = await mapConcurrent(
      Array.from({ length: options.recipients }, (_, i) => i),
      8,
      async (index): Promise<Recipient> => {
        const keys = benchAccountKeys(`fedrecipient${index}`);
        const registered = await postJson<Registered>(betaDirectory, '/v1/accounts', keys.registration);
        return {
          ...registered,
          index,
          registrationId: keys.registration.registrationId,
          path: `/v1/messages/${encodeURIComponent(registered.address)}`,
        };
      },
    );
    const registerSeconds = (Date.now() - setupStart) / 1000;

    const ledger = new DeliveryLedger(options);
    const { total, warmupCount, recipientOf, receivedCount, perSecond } = ledger;
    let wrongSource = 0;
    let primesReceived = 0;
    const acceptToDeliver = new LatencyHistogram(); // measured sends: alpha's 2xx → delivered (negative → 1 µs)
    const okAtNs = new Float64Array(total); // hrtime of the 2xx, relative to t0, ns
    const senderOf = new Uint16Array(total);

    const onEnvelope = (envelope: ReceivedEnvelope, receiver: WsReceiver, now: bigint): void => {
      const seq = ledger.receive(envelope, receiver.index, now, PRIME_SEQ);
      if (seq === PRIME_SEQ) {
        primesReceived++;
        return;
      }
      if (seq === undefined) return;
      if (envelope.source !== senders[senderOf[seq]].address) wrongSource++;
      if (receivedCount[seq] === 1 && seq >= warmupCount && okAtNs[seq] > 0)
        acceptToDeliver.recordSince(ledger.t0 + BigInt(Math.round(okAtNs[seq])));
    };
    const wsUrl = `${beta.services.relay.baseUrl.replace(/^http/, 'ws')}/v1/websocket`;
    const connectStart = Date.now();
    const receivers = await connectAllDrained(wsUrl, recipients, onEnvelope, holder.receivers);
    console.log(
      `setup: ${options.senders} senders on alpha.test, ${options.recipients} recipients on beta.test registered (${registerSeconds.toFixed(1)} s); ` +
        `${receivers.length} beta sockets open and drained (${((Date.now() - connectStart) / 1000).toFixed(1)} s)`,
    );

    // ---- content and request bodies ----
    const body = (seq: number, recipient: Recipient): string => {
      const content = ledger.content(seq);
      return JSON.stringify({
        timestamp: Date.now(),
        messages: [{ deviceId: 1, registrationId: recipient.registrationId, type: CIPHERTEXT_TYPE, content: content.toString('base64') }],
      });
    };

    // ---- prime the path (peer key fetch, pools, caches): one send per sender, not measured ----
    // The first one alone: beta's gateway fetches and pins alpha's keys on first contact, and
    // concurrent first contacts are refused 401 "unknown key" meanwhile (see the report).
    const primeStart = Date.now();
    const primeOne = async (sender: (typeof senders)[number], i: number): Promise<void> => {
      const recipient = recipients[i % recipients.length];
      const answer = await alphaRelay.request({
        method: 'PUT',
        path: recipient.path,
        body: body(PRIME_SEQ, recipient),
        headers: { 'content-type': 'application/json', authorization: sender.authorization },
      });
      const text = await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`priming send: ${answer.statusCode} ${text.slice(0, 300)}`);
    };
    await primeOne(senders[0], 0);
    await mapConcurrent(senders.slice(1), 16, (sender, i) => primeOne(sender, i + 1));
    while (primesReceived < senders.length && Date.now() - primeStart < 15_000) await sleep(20);
    console.log(
      `primed: ${senders.length} sends alpha → beta, ${primesReceived} delivered (${((Date.now() - primeStart) / 1000).toFixed(1)} s)`,
    );
    if (options.prewarm > 0) {
      const prewarmStart = Date.now();
      const expected = senders.length + options.prewarm;
      await mapConcurrent(
        Array.from({ length: options.prewarm }, (_, i) => i),
        64,
        (i) => primeOne(senders[i % senders.length], i),
      );
      while (primesReceived < expected && Date.now() - prewarmStart < 60_000) await sleep(20);
      const seconds = (Date.now() - prewarmStart) / 1000;
      console.log(
        `prewarmed: ${options.prewarm} sends (closed loop, 64 concurrent), ${primesReceived - senders.length} delivered, ` +
          `${seconds.toFixed(1)} s (${(options.prewarm / seconds).toFixed(0)}/s)`,
      );
      await sleep(500);
    }

    // ---- open-model load ----
    const send = async (seq: number): Promise<void> => {
      const from = Math.floor(Math.random() * senders.length);
      const to = Math.floor(Math.random() * recipients.length);
      const recipient = recipients[to];
      recipientOf[seq] = to;
      senderOf[seq] = from;
      const payload = body(seq, recipient);
      await ledger.send(
        alphaRelay,
        seq,
        {
          method: 'PUT',
          path: recipient.path,
          body: payload,
          headers: { 'content-type': 'application/json', authorization: senders[from].authorization },
        },
        (now) => {
          okAtNs[seq] = Number(now - ledger.t0);
        },
      );
    };

    // Postgres backends by homeserver and service, read before and after the window (pools grow under load).
    const pgGroupsNow = async (): Promise<Record<string, number[]>> => {
      const [a, b, background] = await Promise.all([
        postgresBackendsByService(alpha.databaseUrl),
        postgresBackendsByService(beta.databaseUrl),
        postgresBackgroundPids(alpha.databaseUrl),
      ]);
      return {
        'pg alpha-directory': a.directory,
        'pg alpha-relay': a.relay,
        'pg alpha-gateway': a.gateway,
        'pg beta-directory': b.directory,
        'pg beta-relay': b.relay,
        'pg beta-gateway': b.gateway,
        'pg background': background,
      };
    };
    const pgBefore = await pgGroupsNow();
    const requestsBefore = await admittedFederationRequests(beta.redisPrefix, alpha.serverName);
    const servicePids: Record<string, number[]> = {};
    for (const hs of [alpha, beta]) for (const kind of SERVICE_KINDS) servicePids[`${hs.label}-${kind}`] = [hs.services[kind].pid];
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let sampler: WindowCpuSampler | undefined;
    let measuredRss: Record<string, number | null> | undefined;
    const anonSum = (pids: number[]): number => pids.reduce((sum, pid) => sum + rssAnonMiB(pid), 0);
    const readRss = (pg: Record<string, number[]>): Record<string, number | null> => ({
      ...Object.fromEntries(Object.entries(servicePids).map(([name, [pid]]) => [name, rssMiB(pid)])),
      'pg backends alpha (anon)': anonSum([...pg['pg alpha-relay'], ...pg['pg alpha-gateway'], ...pg['pg alpha-directory']]),
      'pg backends beta (anon)': anonSum([...pg['pg beta-relay'], ...pg['pg beta-gateway'], ...pg['pg beta-directory']]),
      client: process.memoryUsage().rss / 1048576,
    });
    const window = new MeasuredWindow(ledger, {
      open: () => {
        sampler = new WindowCpuSampler();
        loopDelay.enable();
      },
      close: () => {
        sampler!.stop();
        loopDelay.disable();
        measuredRss = readRss(pgBefore);
      },
    });
    ledger.startClock();
    const run = runOpenLoop({
      rate: options.rate,
      total,
      maxOutstanding: options.maxOutstanding,
      t0: ledger.t0,
      start: send,
      onTick: (now) => {
        window.tick(now);
        if (now >= ledger.t0) perSecond[ledger.secondOf(now)].outstanding = run.outstanding() + run.waiting();
      },
      doneWhen: () => window.closed,
    });
    await run.issued;

    // ---- drain: every answer in, then every 2xx'd envelope delivered (or the drain time is up) ----
    const drainSeconds = await ledger.drain(() => run.outstanding() > 0 || run.waiting() > 0, options.drain);
    const { okTotal, lost, receivedWithoutOk, duplicateSeqs, okMeasured, deliveredMeasured } = ledger.tally();
    const { latency, acceptLatency, receivedInWindow, duplicateIds, misrouted, foreign, firstError } = ledger;
    const unanswered = total - run.answered();
    const alphaOutbox = await outboxState(alpha.databaseUrl);
    const federationRequests = (await admittedFederationRequests(beta.redisPrefix, alpha.serverName)) - requestsBefore;
    const envelopesPerRequest = federationRequests > 0 ? okTotal / federationRequests : 0;
    const pgAfter = await pgGroupsNow();
    const pgGroups = Object.fromEntries(Object.entries(pgBefore).map(([k, pids]) => [k, [...pids, ...pgAfter[k]]]));
    const cpu: WindowCpu = sampler!.report({ ...servicePids, ...pgGroups, 'redis (shared)': pidsByName('redis-server') });
    const rss = measuredRss ?? readRss(pgAfter);
    const deliveriesPerSec = receivedInWindow / options.seconds;
    const okPerSecInWindow =
      perSecond.slice(Math.ceil(options.warmup), Math.ceil(options.warmup + options.seconds)).reduce((s, p) => s + p.ok, 0) /
      options.seconds;
    const non2xx = ledger.non2xx();
    const pct = (name: string): number => cpu.groups[name] ?? 0;
    const sum = (names: string[]): number => names.reduce((s, n) => s + pct(n), 0);

    // ---- report ----
    console.log('');
    console.log(
      `federation bench: alpha.test → beta.test, 2 homeservers × 3 processes on this machine, open-model identified sends from this one client process, ${cpus().length} cores, node ${process.version}`,
    );
    console.log(
      `NOTE: relay rate limits raised on both homeservers for the bench (${Object.entries(UNLIMITED_RELAY_RATES)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}); the defaults (600/min per sender, 1200/min per recipient) would throttle it.`,
    );
    const tuning = [
      'FEDERATION_DELIVERY_BATCH_SIZE',
      'GATEWAY_DB_POOL_SIZE',
      'FEDERATION_ORIGIN_MAX_CONCURRENT',
      'GROUP_COMMIT_MAX_BATCH',
      'GROUP_COMMIT_MAX_WAIT_MS',
      'RELAY_DB_POOL_SIZE',
      'MAX_IN_FLIGHT_PER_SOCKET',
    ]
      .map((k) => `${k}=${process.env[k] ?? 'default'}`)
      .join(', ');
    console.log(
      `config: ${tuning}; client: undici Pool of ${options.httpConnections} keep-alive connections to alpha's relay, ${options.recipients} beta sockets (auto-ack, batched per event-loop turn)`,
    );
    console.log(
      `load: PUT /v1/messages/{bob@beta.test} on alpha's relay, bearer token of a random one of ${options.senders} alpha senders, one message for bob's device 1, ` +
        `${MIN_CONTENT}-${MAX_CONTENT} B content, random recipient of ${options.recipients}; ${options.warmup} s warm-up + ${options.seconds} s measured at the same rate`,
    );
    console.log(ledger.offeredLine());
    console.log(
      `achieved         ${deliveriesPerSec.toFixed(0)} deliveries/s on beta sockets in the measured window (2xx ${okPerSecInWindow.toFixed(0)}/s); ${deliveredMeasured} of ${okMeasured} measured 2xx'd sends delivered`,
    );
    console.log(ledger.deliverLine());
    console.log(ledger.acceptLine("  (alpha's relay answers after beta accepted or alpha's outbox kept it)"));
    console.log(
      `2xx → deliver    p50 ${fmt(acceptToDeliver.percentileMs(50))}  p99 ${fmt(acceptToDeliver.percentileMs(99))}  max ${fmt(acceptToDeliver.maxMs)} ms  (beta's push, after alpha answered; 0.001 = delivered before the 2xx arrived)`,
    );
    console.log(ledger.scheduleLine(loopDelay, run.peakOutstanding(), options.maxOutstanding, run.waitedForSlot()));
    console.log(ledger.httpLine(okTotal, unanswered));
    console.log(
      `lost ${lost} (2xx'd, not received ${drainSeconds.toFixed(1)} s after the last answer)   duplicate ids ${duplicateIds}   duplicate sends ${duplicateSeqs}   misrouted ${misrouted}   ` +
        `wrong source ${wrongSource}   received without 2xx ${receivedWithoutOk}   foreign ${foreign}`,
    );
    console.log(
      `federation       ${federationRequests} signed requests alpha → beta admitted during the run, ${envelopesPerRequest.toFixed(1)} envelopes per request on average ` +
        `(counted from beta's replay-protection keys); alpha outbox ${alphaOutbox.depth} rows left, destinations ${JSON.stringify(alphaOutbox.destinations)}`,
    );
    console.log(`cpu (% of one core, measured window):`);
    for (const hs of ['alpha', 'beta']) {
      console.log(
        `  ${hs.padEnd(5)}  ${SERVICE_KINDS.map((k) => `${k} ${pct(`${hs}-${k}`).toFixed(0)}%`).join(', ')}; postgres backends ` +
          `${SERVICE_KINDS.map((k) => `${k} ${pct(`pg ${hs}-${k}`).toFixed(0)}%`).join(', ')}`,
      );
    }
    console.log(
      `  shared postgres background ${pct('pg background').toFixed(0)}%, redis ${pct('redis (shared)').toFixed(0)}%, bench client ${cpu.selfPct.toFixed(0)}%, anything else ${cpu.otherPct.toFixed(0)}%; ` +
        `machine ${cpu.machinePct.toFixed(0)}% of ${cpus().length * 100}%`,
    );
    const serverSidePct = sum([...Object.keys(servicePids), ...Object.keys(pgGroups), 'redis (shared)']);
    const coreMsPerEnvelope = deliveriesPerSec > 0 ? (10 * serverSidePct) / deliveriesPerSec : 0; // (pct/100 cores × 1000 ms) / (envelopes/s)
    const perEnvelope = (names: string[]): string => (deliveriesPerSec > 0 ? ((10 * sum(names)) / deliveriesPerSec).toFixed(3) : '?');
    console.log(
      `  cpu per delivered envelope: ${coreMsPerEnvelope.toFixed(3)} core-ms server side (6 services + their postgres backends + postgres background + redis); ` +
        `alpha relay ${perEnvelope(['alpha-relay'])}, alpha gateway ${perEnvelope(['alpha-gateway'])}, beta gateway ${perEnvelope(['beta-gateway'])}, ` +
        `beta relay ${perEnvelope(['beta-relay'])}, postgres ${perEnvelope(Object.keys(pgGroups))}, redis ${perEnvelope(['redis (shared)'])}; client ${deliveriesPerSec > 0 ? ((10 * cpu.selfPct) / deliveriesPerSec).toFixed(3) : '?'}`,
    );
    if (cpu.otherPct > 15) {
      console.log(
        `  WARNING: ${cpu.otherPct.toFixed(0)}% of a core went to processes outside this bench during the window: the figures understate what this machine can do`,
      );
    }
    if (cpu.topOthers.length) {
      console.log(
        `  not this bench's (other work on the machine): ${cpu.topOthers.map((o) => `${o.pct.toFixed(0)}% pid ${o.pid} ${o.command}`).join('; ')}`,
      );
    }
    console.log(
      `rss at end of window (MiB): ${Object.entries(rss)
        .map(([k, v]) => `${k} ${v === null ? '?' : v.toFixed(1)}`)
        .join(', ')}`,
    );
    console.log(ledger.perSecondLines());
    if (options.cpuProfDir)
      console.log(`CPU profiles of ${options.cpuProfServices.join(', ')}: written to ${options.cpuProfDir} when they stop`);
    if (firstError) console.log(`first error: ${firstError}`);
    // Deliveries counted in a window at an offered rate R sit a hair either side of R: "sustained" = at least 99% of R.
    const sustained = deliveriesPerSec >= 0.99 * options.rate;
    const met =
      options.rate >= 1500 &&
      sustained &&
      latency.percentileMs(99) <= 250 &&
      lost === 0 &&
      Object.keys(non2xx).length === 0 &&
      unanswered === 0;
    console.log(
      `aim (≥ 1,500 envelopes/s offered and sustained — ≥ 99% delivered in the window —, p99 ≤ 250 ms, zero loss, no errors): ${met ? 'met' : 'NOT met'}` +
        (options.rate < 1500 ? ` (offered rate ${options.rate} is below 1,500)` : ''),
    );
    console.log(
      JSON.stringify({
        offeredPerSec: options.rate,
        deliveriesPerSec: round(deliveriesPerSec, 1),
        acceptedPerSec: round(okPerSecInWindow, 1),
        p50Ms: round(latency.percentileMs(50)),
        p99Ms: round(latency.percentileMs(99)),
        p999Ms: round(latency.percentileMs(99.9)),
        maxMs: round(latency.maxMs),
        acceptP50Ms: round(acceptLatency.percentileMs(50)),
        acceptP99Ms: round(acceptLatency.percentileMs(99)),
        non2xx,
        lost,
        duplicates: duplicateIds,
        duplicateSends: duplicateSeqs,
        misrouted,
        wrongSource,
        unanswered,
        measuredSends: total - warmupCount,
        delivered: ledger.receivedTotal,
        alphaOutboxLeft: alphaOutbox.depth,
        federationRequests,
        envelopesPerRequest: round(envelopesPerRequest, 1),
        waitedForSlot: run.waitedForSlot(),
        cpuPct: {
          ...Object.fromEntries(Object.keys(servicePids).map((k) => [k, round(pct(k), 0)])),
          postgresAlpha: round(sum(SERVICE_KINDS.map((k) => `pg alpha-${k}`)), 0),
          postgresBeta: round(sum(SERVICE_KINDS.map((k) => `pg beta-${k}`)), 0),
          postgresBackground: round(pct('pg background'), 0),
          redis: round(pct('redis (shared)'), 0),
          client: round(cpu.selfPct, 0),
          other: round(cpu.otherPct, 0),
          machine: round(cpu.machinePct, 0),
        },
        otherProcesses: cpu.topOthers.map((o) => ({ pct: o.pct, command: o.command.slice(0, 60) })),
        rssMiB: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, v === null ? null : round(v, 1)])),
        coreMsPerEnvelope: round(coreMsPerEnvelope, 3),
        aimMet: met,
        prewarm: options.prewarm,
        senders: options.senders,
        recipients: options.recipients,
        seconds: options.seconds,
        cores: cpus().length,
      }),
    );
  } finally {
    terminateAll(holder.receivers);
    await alphaRelay.close();
    await alphaDirectory.close();
    await betaDirectory.close();
  }
}

const holder: { services: ServiceProcess[]; homeservers: RunningHomeserver[]; receivers: WsReceiver[] } = {
  services: [],
  homeservers: [],
  receivers: [],
};
const stopServices = async (): Promise<void> => {
  terminateAll(holder.receivers);
  // Homeservers stop front to back; anything spawned but not yet returned as a homeserver is stopped directly.
  await Promise.all(holder.homeservers.map((hs) => hs.stop()));
  for (const service of [...holder.services].reverse()) await service.stop().catch(() => undefined);
};
runBench(() => main(holder), stopServices, 'both homeservers');
