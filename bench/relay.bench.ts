/**
 * Relay send → deliver, open model: N connected devices send sealed-sender envelopes to each
 * other through ONE relay process at a constant arrival rate; latency runs from each send's
 * INTENDED time (t0 + i/R) to its arrival at the recipient's socket, so a stalled relay shows up
 * in the latency instead of silently lowering the offered load (no coordinated omission).
 *
 *   npm run bench:relay -- [--rate 3000] [--seconds 20] [--warmup 8] [--accounts 200] [--drain 5]
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
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { parseArgs } from './support/bench-args';
import { runBench } from './support/bench-main';
import { mapConcurrent } from './support/closed-loop';
import { DeliveryLedger, MAX_CONTENT, MIN_CONTENT, MeasuredWindow, round } from './support/delivery-ledger';
import {
  DbCounters,
  Homeserver,
  Registered,
  databaseCounters,
  exitOnSigtermPreload,
  postJson,
  postgresPids,
  resetSchemas,
  startHomeserver,
} from './support/homeserver';
import { runOpenLoop } from './support/open-loop';
import { CpuSampler, CpuUse, machineTicks, pidsByName, rssMiB } from './support/proc-stats';
import type { ServiceProcess } from './support/service-process';
import { benchAccountKeys } from './support/signal-devices';
import { ReceivedEnvelope, WsReceiver, connectAllDrained, terminateAll } from './support/ws-receiver';
import { UNLIMITED_RELAY_RATES } from './support/unlimited-rates';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sealpost_bench_relay';
/** Sealed-sender envelope type (carried opaquely by the relay). */
const SEALED_SENDER_TYPE = 6;
const EMPTY = Buffer.alloc(0);

interface Options {
  rate: number;
  seconds: number;
  warmup: number;
  accounts: number;
  drain: number;
  httpConnections: number;
  maxOutstanding: number;
  cpuProfDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { rate: 3000, seconds: 20, warmup: 8, accounts: 200, drain: 5, httpConnections: 1024, maxOutstanding: 20_000 };
  const names: Record<string, keyof Omit<Options, 'cpuProfDir'>> = {
    '--rate': 'rate',
    '--seconds': 'seconds',
    '--warmup': 'warmup',
    '--accounts': 'accounts',
    '--drain': 'drain',
    '--http-connections': 'httpConnections',
    '--max-outstanding': 'maxOutstanding',
  };
  parseArgs(argv, options, names, `usage: [${Object.keys(names).join(' N] [')} N] [--cpu-prof DIR]`, {
    '--cpu-prof': (dir) => {
      options.cpuProfDir = resolve(dir);
    },
  });
  if (options.accounts < 2 || options.rate <= 0 || options.httpConnections < 1 || options.maxOutstanding < 1) {
    throw new Error('--accounts must be at least 2; --rate, --http-connections and --max-outstanding positive');
  }
  return options;
}

interface Account extends Registered {
  index: number;
  registrationId: number;
  unidentifiedAccessKey: string;
  path: string;
}

function cpuLine(cpu: CpuUse): string {
  const groups = Object.entries(cpu.groups)
    .map(([name, pct]) => `${name} ${pct.toFixed(0)}%`)
    .join(', ');
  return `${groups}, bench client ${cpu.selfPct.toFixed(0)}%, anything else ${cpu.otherPct.toFixed(0)}%; machine ${cpu.machinePct.toFixed(0)}% of ${cpus().length * 100}%`;
}

async function main(holder: {
  services: ServiceProcess[];
  stopping?: boolean;
  homeserver?: Homeserver;
  receivers: WsReceiver[];
}): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  await resetSchemas(DATABASE_URL, ['directory', 'relay']);
  const homeserver = await startHomeserver(
    {
      databaseUrl: DATABASE_URL,
      relayEnv: UNLIMITED_RELAY_RATES,
      relayNodeArgs: options.cpuProfDir ? ['-r', exitOnSigtermPreload(), '--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
    },
    holder,
  );
  holder.homeserver = homeserver;
  const { directory, relay } = homeserver;
  const directoryHttp = new Pool(directory.baseUrl, { connections: 8 });
  const relayHttp = new Pool(relay.baseUrl, { connections: options.httpConnections, pipelining: 1 });
  try {
    // ---- setup (not measured): accounts, one connected device each ----
    const setupStart = Date.now();
    const accounts = await mapConcurrent(
      Array.from({ length: options.accounts }, (_, i) => i),
      8,
      async (index): Promise<Account> => {
        const keys = benchAccountKeys(`relaybench${index}`);
        const registered = await postJson<Registered>(directoryHttp, '/v1/accounts', keys.registration);
        return {
          ...registered,
          index,
          registrationId: keys.registration.registrationId,
          unidentifiedAccessKey: keys.unidentifiedAccessKey,
          path: `/v1/messages/${encodeURIComponent(registered.address)}`,
        };
      },
    );
    const registerSeconds = (Date.now() - setupStart) / 1000;

    const ledger = new DeliveryLedger(options);
    const { total, warmupCount, recipientOf } = ledger;
    const onEnvelope = (envelope: ReceivedEnvelope, receiver: WsReceiver, now: bigint): void => {
      ledger.receive(envelope, receiver.index, now);
    };
    const wsUrl = `${relay.baseUrl.replace(/^http/, 'ws')}/v1/websocket`;
    const connectStart = Date.now();
    const receivers = await connectAllDrained(wsUrl, accounts, onEnvelope, holder.receivers, (index) => `socket of account ${index}`);
    console.log(
      `setup: ${options.accounts} accounts registered (${registerSeconds.toFixed(1)} s), ${receivers.length} sockets open and drained (${((Date.now() - connectStart) / 1000).toFixed(1)} s)`,
    );

    // What the rest of the machine is doing right before the load (other sessions, builds, tests).
    const idleStart = machineTicks();
    await sleep(1000);
    const idleEnd = machineTicks();
    const busyBefore = (100 * cpus().length * (idleEnd.busy - idleStart.busy)) / Math.max(1, idleEnd.total - idleStart.total);
    console.log(
      `machine busy in the second before the load: ${busyBefore.toFixed(0)}% of ${cpus().length * 100}%${busyBefore > 20 ? ' — something else is running; figures will suffer' : ''}`,
    );

    // ---- open-model load ----
    // Every request body is built before the clock starts, so the generator spends the run sending.
    const prepareStart = Date.now();
    const bodies: Buffer[] = new Array(total);
    const wallT0 = Date.now() + 1000;
    for (let seq = 0; seq < total; seq++) {
      const from = Math.floor(Math.random() * accounts.length);
      let to = Math.floor(Math.random() * (accounts.length - 1));
      if (to >= from) to++;
      recipientOf[seq] = to;
      bodies[seq] = Buffer.from(
        JSON.stringify({
          timestamp: wallT0 + Math.round((seq * 1000) / options.rate),
          messages: [
            {
              deviceId: 1,
              registrationId: accounts[to].registrationId,
              type: SEALED_SENDER_TYPE,
              content: ledger.content(seq).toString('base64'),
            },
          ],
        }),
      );
    }
    console.log(`prepared ${total} request bodies (${((Date.now() - prepareStart) / 1000).toFixed(1)} s)`);

    const send = (seq: number): Promise<void> => {
      const recipient = accounts[recipientOf[seq]];
      return ledger
        .send(relayHttp, seq, {
          method: 'PUT',
          path: recipient.path,
          body: bodies[seq],
          headers: { 'content-type': 'application/json', 'unidentified-access-key': recipient.unidentifiedAccessKey },
        })
        .finally(() => {
          bodies[seq] = EMPTY;
        });
    };

    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let sampler: CpuSampler | undefined;
    let cpuUse: CpuUse | undefined;
    const pg = await postgresPids(DATABASE_URL); // pools are open by now (registration, socket drains)
    let dbAtStart: Promise<DbCounters> | undefined;
    let dbAtEnd: Promise<DbCounters> | undefined;
    let measuredRss: { relay: number | null; directory: number | null; client: number } | undefined;
    const window = new MeasuredWindow(ledger, {
      open: () => {
        sampler = new CpuSampler({
          relay: [relay.pid],
          directory: [directory.pid],
          'postgres (relay backends)': pg.relay,
          'postgres (directory backends)': pg.directory,
          'postgres (background)': pg.background,
          'redis (shared)': pidsByName('redis-server'),
        });
        dbAtStart = databaseCounters(DATABASE_URL);
        loopDelay.enable();
      },
      close: () => {
        cpuUse = sampler!.finish();
        dbAtEnd = databaseCounters(DATABASE_URL);
        loopDelay.disable();
        measuredRss = { relay: rssMiB(relay.pid), directory: rssMiB(directory.pid), client: process.memoryUsage().rss / 1048576 };
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
        if (now >= ledger.t0) ledger.perSecond[ledger.secondOf(now)].outstanding = run.outstanding();
      },
      doneWhen: () => window.closed,
    });
    await run.issued;

    // ---- drain: every answer in, then every 2xx'd envelope delivered (or the drain time is up) ----
    await ledger.drain(() => run.outstanding() > 0 || run.waiting() > 0, options.drain);
    const { okTotal, lost, receivedWithoutOk, duplicateSeqs, okMeasured, deliveredMeasured } = ledger.tally();
    const { latency, acceptLatency, receivedInWindow, duplicateIds, misrouted, foreign } = ledger;
    const unanswered = total - run.answered();
    const rss = measuredRss ?? { relay: rssMiB(relay.pid), directory: rssMiB(directory.pid), client: process.memoryUsage().rss / 1048576 };
    const cpu = cpuUse as CpuUse;
    const deliveriesPerSec = receivedInWindow / options.seconds;
    const non2xx = ledger.non2xx();

    const [dbStart, dbEnd] = (await Promise.all([dbAtStart, dbAtEnd])) as [DbCounters, DbCounters];
    const perDelivery = (key: keyof DbCounters): string => ((dbEnd[key] - dbStart[key]) / Math.max(1, receivedInWindow)).toFixed(2);

    // ---- report ----
    console.log('');
    console.log(
      `relay bench: 1 relay + 1 directory process, open-model sealed-sender sends from this one client process, ${cpus().length} cores, node ${process.version}`,
    );
    console.log(
      `NOTE: relay rate limits raised for the bench (${Object.entries(UNLIMITED_RELAY_RATES)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}); the defaults (600/min per sender, 1200/min per recipient) would throttle it.`,
    );
    const tuning = [
      'MAX_IN_FLIGHT_PER_SOCKET',
      'GROUP_COMMIT_MAX_BATCH',
      'GROUP_COMMIT_MAX_WAIT_MS',
      'RELAY_DB_POOL_SIZE',
      'QUEUE_CAP_PER_DEVICE',
    ]
      .map((k) => `${k}=${process.env[k] ?? 'default'}`)
      .join(', ');
    console.log(
      `relay config: ${tuning}; client: undici Pool of ${options.httpConnections} keep-alive connections, ${options.accounts} sockets (auto-ack, batched per event-loop turn)`,
    );
    console.log(
      `load: PUT /v1/messages/{address} sealed (Unidentified-Access-Key, no Authorization), ${MIN_CONTENT}-${MAX_CONTENT} B content, random sender → random other account; ${options.warmup} s warm-up + ${options.seconds} s measured at the same rate`,
    );
    console.log(ledger.offeredLine());
    console.log(
      `achieved         ${deliveriesPerSec.toFixed(0)} deliveries/s in the measured window; ${deliveredMeasured} of ${okMeasured} measured 2xx'd sends delivered`,
    );
    console.log(ledger.deliverLine());
    console.log(ledger.acceptLine());
    console.log(ledger.scheduleLine(loopDelay, run.peakOutstanding(), options.maxOutstanding, run.waitedForSlot()));
    console.log(ledger.httpLine(okTotal, unanswered));
    console.log(
      `lost ${lost} (2xx'd, not received ${options.drain} s after the last answer)   duplicate ids ${duplicateIds}   duplicate sends ${duplicateSeqs}   misrouted ${misrouted}   received without 2xx ${receivedWithoutOk}   foreign ${foreign}`,
    );
    console.log(
      `postgres per delivery (measured window, pg_stat_database of the bench database): ${perDelivery('xactCommit')} transactions ` +
        `(each statement outside BEGIN..COMMIT counts as one), ${perDelivery('tupInserted')} rows inserted, ${perDelivery('tupUpdated')} updated, ${perDelivery('tupDeleted')} deleted, ${perDelivery('tupReturned')} returned`,
    );
    console.log(`cpu (% of one core, measured window): ${cpuLine(cpu)}`);
    const usPer = (pct: number): string => (((pct / 100) * options.seconds * 1e6) / Math.max(1, receivedInWindow)).toFixed(0);
    const pgPct =
      cpu.groups['postgres (relay backends)'] + cpu.groups['postgres (directory backends)'] + cpu.groups['postgres (background)'];
    const totalPct = cpu.groups.relay + cpu.groups.directory + pgPct + cpu.groups['redis (shared)'] + cpu.selfPct;
    console.log(
      `cpu per delivery: relay ${usPer(cpu.groups.relay)} µs, postgres ${usPer(pgPct)} µs, redis ${usPer(cpu.groups['redis (shared)'])} µs, ` +
        `bench client ${usPer(cpu.selfPct)} µs; all of these ${usPer(totalPct)} µs → at most ~${((cpus().length * 1e6) / Number(usPer(totalPct))).toFixed(0)} deliveries/s on ${cpus().length} cores ` +
        `if nothing else ran, and ~${(1e6 / Number(usPer(cpu.groups.relay))).toFixed(0)}/s before the relay's one event loop saturates`,
    );
    console.log(
      `rss at end of window: relay ${rss.relay?.toFixed(1)} MiB, directory ${rss.directory?.toFixed(1)} MiB, bench client ${rss.client.toFixed(1)} MiB`,
    );
    console.log(ledger.perSecondLines());
    if (options.cpuProfDir) console.log(`relay CPU profile: written to ${options.cpuProfDir} when the relay stops`);
    if (ledger.firstError) console.log(`first error: ${ledger.firstError}`);
    console.log(
      JSON.stringify({
        offeredPerSec: options.rate,
        deliveriesPerSec: round(deliveriesPerSec, 1),
        p50Ms: round(latency.percentileMs(50)),
        p99Ms: round(latency.percentileMs(99)),
        p999Ms: round(latency.percentileMs(99.9)),
        maxMs: round(latency.maxMs),
        acceptP99Ms: round(acceptLatency.percentileMs(99)),
        non2xx,
        lost,
        duplicates: duplicateIds,
        duplicateSends: duplicateSeqs,
        misrouted,
        measuredSends: total - warmupCount,
        delivered: ledger.receivedTotal,
        waitedForSlot: run.waitedForSlot(),
        cpuPct: {
          relay: round(cpu.groups.relay, 0),
          directory: round(cpu.groups.directory, 0),
          postgresBackends: round(cpu.groups['postgres (relay backends)'] + cpu.groups['postgres (directory backends)'], 0),
          postgresBackground: round(cpu.groups['postgres (background)'], 0),
          redis: round(cpu.groups['redis (shared)'], 0),
          client: round(cpu.selfPct, 0),
          other: round(cpu.otherPct, 0),
          machine: round(cpu.machinePct, 0),
        },
        cpuUsPerDelivery: {
          relay: Number(usPer(cpu.groups.relay)),
          postgres: Number(usPer(pgPct)),
          redis: Number(usPer(cpu.groups['redis (shared)'])),
          client: Number(usPer(cpu.selfPct)),
        },
        rssMiB: {
          relay: rss.relay === null ? null : round(rss.relay, 1),
          directory: rss.directory === null ? null : round(rss.directory, 1),
          client: round(rss.client, 1),
        },
        accounts: options.accounts,
        seconds: options.seconds,
        cores: cpus().length,
      }),
    );
  } finally {
    terminateAll(holder.receivers);
    await relayHttp.close();
    await directoryHttp.close();
  }
}

const holder: { services: ServiceProcess[]; stopping?: boolean; homeserver?: Homeserver; receivers: WsReceiver[] } = {
  services: [],
  receivers: [],
};
const stopServices = async (): Promise<void> => {
  holder.stopping = true;
  for (const r of holder.receivers) r.closing = true;
  for (const service of [...holder.services].reverse()) await service.stop().catch(() => undefined);
};
runBench(() => main(holder), stopServices, 'the relay and the directory');
