/**
 * Idle WebSocket connections held by ONE relay process: RSS per authenticated, drained, idle
 * connection.
 *
 *   npm run bench:connections -- [--connections 15000] [--devices-per-account 125] [--setup register|link]
 *                                [--open-concurrency 500] [--idle 5] [--settle 60] [--ping-interval 300] [--heap-snapshot DIR]
 *
 * Spawns a prekey directory and a relay (database sealpost_bench_connections, `directory` and
 * `relay` schemas dropped first, fresh Redis prefix). Devices come from registering N accounts
 * (`--setup register`, the default: measured no slower, see the setup line of the report) or from
 * registering ceil(N / devices-per-account) accounts and linking devices to them (`--setup link`;
 * links to one account serialise on its row lock). The relay runs with --expose-gc and a
 * preloaded observer (support/memory-probe) so the bench can read its heap and force a GC; the
 * relay's own code is unchanged. `--heap-snapshot DIR` also writes heap snapshots before and
 * after and prints what grew per connection (its RSS figures are then distorted: says so).
 *
 * RSS is read twice `--idle` s apart after the last socket opened, then once more when
 * `--settle` s have passed: V8 keeps the heap it grew during the opening burst for a while and
 * returns it only after some idle time, so the later figure is the steady state.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { runBench } from './support/bench-main';
import { mapConcurrent } from './support/closed-loop';
import { Homeserver, Registered, postJson, resetSchemas, startHomeserver } from './support/homeserver';
import { rssMiB } from './support/proc-stats';
import type { ServiceProcess } from './support/service-process';
import { benchAccountKeys } from './support/signal-devices';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sealpost_bench_connections';
const MAX_DEVICES_PER_ACCOUNT = 127;
const WARMUP_CONNECTIONS = 200;
const OPEN_TIMEOUT_MS = 60_000;

interface Options {
  connections: number;
  devicesPerAccount: number;
  setup: 'link' | 'register';
  openConcurrency: number;
  idle: number;
  settle: number;
  pingInterval: number;
  heapSnapshotDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    connections: 15_000,
    devicesPerAccount: 125,
    setup: 'register',
    openConcurrency: 500,
    idle: 5,
    settle: 60,
    pingInterval: 300,
  };
  const names: Record<string, 'connections' | 'devicesPerAccount' | 'openConcurrency' | 'idle' | 'settle' | 'pingInterval'> = {
    '--connections': 'connections',
    '--devices-per-account': 'devicesPerAccount',
    '--open-concurrency': 'openConcurrency',
    '--idle': 'idle',
    '--settle': 'settle',
    '--ping-interval': 'pingInterval',
  };
  const usage = `usage: [${Object.keys(names).join(' N] [')} N] [--setup link|register] [--heap-snapshot DIR]`;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--heap-snapshot' && argv[i + 1]) {
      options.heapSnapshotDir = resolve(argv[i + 1]);
      continue;
    }
    if (argv[i] === '--setup' && (argv[i + 1] === 'link' || argv[i + 1] === 'register')) {
      options.setup = argv[i + 1] as Options['setup'];
      continue;
    }
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isFinite(value) || value < 0) throw new Error(usage);
    options[key] = value;
  }
  if (
    options.connections < 1 ||
    options.devicesPerAccount < 1 ||
    options.devicesPerAccount > MAX_DEVICES_PER_ACCOUNT ||
    options.openConcurrency < 1 ||
    options.pingInterval < 1
  ) {
    throw new Error(`--connections, --open-concurrency, --ping-interval ≥ 1; --devices-per-account 1..${MAX_DEVICES_PER_ACCOUNT}`);
  }
  return options;
}

/** Registers accounts and links devices; returns one bearer token per device. */
async function makeDevices(http: Pool, options: Options): Promise<string[]> {
  if (options.setup === 'register') {
    return mapConcurrent(
      Array.from({ length: options.connections }, (_, i) => i),
      16,
      async (i) => (await postJson<Registered>(http, '/v1/accounts', benchAccountKeys(`conn${i}`).registration)).token,
    );
  }
  const accounts = Math.ceil(options.connections / options.devicesPerAccount);
  const perAccount = await mapConcurrent(
    Array.from({ length: accounts }, (_, i) => i),
    16,
    async (a) => {
      const keys = benchAccountKeys(`conn${a}`);
      const primary = await postJson<Registered>(http, '/v1/accounts', keys.registration);
      const auth = { authorization: `Bearer ${primary.token}` };
      const devices = Math.min(options.devicesPerAccount, options.connections - a * options.devicesPerAccount);
      const tokens = [primary.token];
      // Linking locks the account row: one account's links go one after another, accounts in parallel.
      while (tokens.length < devices) {
        const { code } = await postJson<{ code: string }>(http, '/v1/devices/link-codes', {}, auth);
        tokens.push((await postJson<{ token: string }>(http, '/v1/devices', keys.linkBody(code))).token);
      }
      return tokens;
    },
  );
  return perAccount.flat();
}

interface OpenResult {
  socket?: WebSocket;
  failure?: string;
}

/** Opens one authenticated socket and resolves once the relay says queue-empty (the connection is fully set up). */
function openSocket(wsUrl: string, token: string, unexpected: Map<string, number>, state: { closing: boolean }): Promise<OpenResult> {
  return new Promise((done) => {
    const socket = new WebSocket(wsUrl, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      handshakeTimeout: OPEN_TIMEOUT_MS,
    });
    let settled = false;
    const settle = (result: OpenResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(result);
    };
    const timer = setTimeout(() => {
      socket.terminate();
      settle({ failure: 'timeout' });
    }, OPEN_TIMEOUT_MS);
    socket.on('message', (data: Buffer) => {
      if (data.toString('utf8') === '{"type":"queue-empty"}') settle({ socket });
    });
    socket.once('unexpected-response', (_req, res) => {
      settle({ failure: `http ${res.statusCode}` });
      socket.terminate();
    });
    socket.on('error', (error: Error & { code?: string }) => settle({ failure: `error ${error.code ?? error.message}` }));
    socket.on('close', (code) => {
      settle({ failure: `closed ${code}` });
      if (!state.closing) unexpected.set(String(code), (unexpected.get(String(code)) ?? 0) + 1);
    });
  });
}

interface ProbeStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  mallocedMemory: number;
  handles: number | null;
  gcRan?: boolean;
}

/** Asks the relay's preloaded memory probe for a reading (see support/memory-probe). */
async function probe(relay: ServiceProcess, file: string, command: string): Promise<ProbeStats> {
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  const before = lines().length;
  writeFileSync(`${file}.cmd`, command);
  process.kill(relay.pid, 'SIGWINCH');
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const now = lines();
    if (now.length > before) return JSON.parse(now[now.length - 1]) as ProbeStats;
    await sleep(50);
  }
  throw new Error(`the relay's memory probe did not answer "${command}"`);
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

async function main(
  holder: { services: ServiceProcess[]; stopping?: boolean },
  state: { closing: boolean; sockets: WebSocket[] },
): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const workDir = join(tmpdir(), `sealpost-connections-bench-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  const probeFile = join(workDir, 'memory-probe.jsonl');
  await resetSchemas(DATABASE_URL, ['directory', 'relay']);
  const homeserver: Homeserver = await startHomeserver(
    {
      databaseUrl: DATABASE_URL,
      relayEnv: { WS_PING_INTERVAL_SECONDS: String(options.pingInterval), MEMORY_PROBE_FILE: probeFile },
      relayNodeArgs: ['--expose-gc', '-r', resolve(__dirname, 'support/memory-probe.js')],
    },
    holder,
  );
  const { directory, relay } = homeserver;
  const http = new Pool(directory.baseUrl, { connections: 16 });
  const wsUrl = `${relay.baseUrl.replace(/^http/, 'ws')}/v1/websocket`;
  const unexpected = new Map<string, number>();
  try {
    // ---- devices ----
    const setupStart = Date.now();
    const tokens = await makeDevices(http, options);
    const setupSeconds = (Date.now() - setupStart) / 1000;
    console.log(
      `setup: ${tokens.length} device tokens by --setup ${options.setup}` +
        (options.setup === 'link'
          ? ` (${Math.ceil(options.connections / options.devicesPerAccount)} accounts × up to ${options.devicesPerAccount} devices)`
          : '') +
        ` in ${setupSeconds.toFixed(1)} s (${(tokens.length / setupSeconds).toFixed(0)} devices/s)`,
    );

    // ---- warm-up: exercise the upgrade/auth/drain path, then close those sockets ----
    const warm = await mapConcurrent(tokens.slice(0, WARMUP_CONNECTIONS), 50, (token) =>
      openSocket(wsUrl, token, unexpected, { closing: true }),
    );
    for (const w of warm) w.socket?.close();
    await sleep(2000);

    // ---- before ----
    const rssBefore1 = rssMiB(relay.pid) ?? 0;
    await sleep(3000);
    const rssBefore2 = rssMiB(relay.pid) ?? 0;
    const before = await probe(relay, probeFile, 'gc-stats');
    const beforeSnapshot = options.heapSnapshotDir ? join(options.heapSnapshotDir, 'relay-before.heapsnapshot') : undefined;
    if (beforeSnapshot) {
      mkdirSync(options.heapSnapshotDir!, { recursive: true });
      await probe(relay, probeFile, `snapshot ${beforeSnapshot}`);
    }

    // ---- open N, concurrently ----
    const openStart = Date.now();
    const failures = new Map<string, number>();
    let opened = 0;
    const progress = setInterval(() => process.stderr.write(`  ${opened} open...\n`), 5000);
    await mapConcurrent(tokens, options.openConcurrency, async (token) => {
      const result = await openSocket(wsUrl, token, unexpected, state);
      if (result.socket) {
        state.sockets.push(result.socket);
        opened++;
      } else {
        failures.set(result.failure ?? 'unknown', (failures.get(result.failure ?? 'unknown') ?? 0) + 1);
      }
    });
    clearInterval(progress);
    const openSeconds = (Date.now() - openStart) / 1000;

    // ---- after: idle, read twice, then after a forced GC ----
    await sleep(options.idle * 1000);
    const rssAfter1 = rssMiB(relay.pid) ?? 0;
    await sleep(options.idle * 1000);
    const rssAfter2 = rssMiB(relay.pid) ?? 0;
    const afterNoGc = await probe(relay, probeFile, 'stats');
    const after = await probe(relay, probeFile, 'gc-stats');
    // V8 keeps the heap it grew while the sockets opened (auth, queries, frames) and gives it back
    // only after a while idle (its memory reducer): a last reading once `settle` s have passed.
    let settled: { rss: number; probe: ProbeStats } | undefined;
    if (options.settle > 2 * options.idle) {
      await sleep((options.settle - 2 * options.idle) * 1000);
      settled = { rss: rssMiB(relay.pid) ?? 0, probe: await probe(relay, probeFile, 'gc-stats') };
    }
    const stillOpen = state.sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
    const afterSnapshot = options.heapSnapshotDir ? join(options.heapSnapshotDir, 'relay-after.heapsnapshot') : undefined;
    if (afterSnapshot) await probe(relay, probeFile, `snapshot ${afterSnapshot}`);

    // ---- report ----
    const n = Math.max(1, stillOpen);
    const kbPer = (afterMiB: number, beforeMiB: number): number => ((afterMiB - beforeMiB) * 1024) / n;
    const perConnBytes = (a: number, b: number): number => (a - b) / n;
    const failed = [...failures.values()].reduce((x, y) => x + y, 0);
    console.log('');
    console.log(
      `connections bench: 1 relay + 1 directory process, ${options.connections} idle authenticated WebSockets from this one client process, ${cpus().length} cores, node ${process.version}`,
    );
    console.log(
      `relay: WS_PING_INTERVAL_SECONDS=${options.pingInterval} (sweeps kept out of the window), started with --expose-gc and a preloaded memory probe; client opened them ${options.openConcurrency} at a time`,
    );
    console.log(
      `connections open   ${stillOpen} of ${options.connections} (each authenticated and drained: queue-empty received); failed to open ${failed}${failed ? ` ${JSON.stringify(Object.fromEntries(failures))}` : ''}` +
        `${unexpected.size ? `; closed later by the server ${JSON.stringify(Object.fromEntries(unexpected))}` : ''}`,
    );
    console.log(`opening            ${openSeconds.toFixed(1)} s (${(opened / openSeconds).toFixed(0)} connections/s)`);
    console.log(
      `relay RSS before   ${rssBefore1.toFixed(1)} MiB, ${rssBefore2.toFixed(1)} MiB 3 s later, ${mib(before.rss)} MiB after a forced GC (heap used ${mib(before.heapUsed)} of ${mib(before.heapTotal)} MiB, external ${mib(before.external)} MiB)`,
    );
    console.log(
      `relay RSS after    ${rssAfter1.toFixed(1)} MiB after ${options.idle} s idle, ${rssAfter2.toFixed(1)} MiB ${options.idle} s later, ${mib(after.rss)} MiB after a forced GC (heap used ${mib(afterNoGc.heapUsed)} → ${mib(after.heapUsed)} MiB after GC, of ${mib(after.heapTotal)} MiB, external ${mib(after.external)} MiB, active handles ${after.handles})`,
    );
    console.log(
      `per connection     ${kbPer(rssAfter2, rssBefore2).toFixed(2)} KB RSS (idle readings); ${kbPer(after.rss / 1048576, before.rss / 1048576).toFixed(2)} KB RSS (both after a forced GC); ` +
        `of which V8 heap ${(perConnBytes(after.heapUsed, before.heapUsed) / 1024).toFixed(2)} KB, external ${(perConnBytes(after.external, before.external) / 1024).toFixed(2)} KB, ` +
        `malloc'd by V8 ${(perConnBytes(after.mallocedMemory, before.mallocedMemory) / 1024).toFixed(2)} KB`,
    );
    if (settled) {
      console.log(
        `relay RSS settled  ${settled.rss.toFixed(1)} MiB after ${options.settle} s idle (${mib(settled.probe.rss)} MiB after a forced GC; V8 heap ${mib(settled.probe.heapUsed)} used of ${mib(settled.probe.heapTotal)} MiB): ` +
          `${kbPer(settled.rss, rssBefore2).toFixed(2)} KB RSS per connection`,
      );
    }
    if (options.heapSnapshotDir)
      console.log(
        'CAUTION: --heap-snapshot was given: writing the "before" snapshot raises RSS (V8 allocates for it), so the RSS figures of this run are not comparable; run without it for RSS.',
      );
    console.log(
      `aim                ≤ 10 KB RSS per connection: ${kbPer(rssAfter2, rssBefore2) <= 10 ? 'met' : 'NOT met'} (${2 * options.idle} s idle)` +
        (settled ? `, ${kbPer(settled.rss, rssBefore2) <= 10 ? 'met' : 'NOT met'} (${options.settle} s idle)` : ''),
    );
    console.log(
      `relay directory    directory RSS ${rssMiB(directory.pid)?.toFixed(1)} MiB; bench client RSS ${mib(process.memoryUsage().rss)} MiB`,
    );
    if (beforeSnapshot && afterSnapshot) {
      const script = resolve(__dirname, 'support/heap-summary.js');
      const out = execFileSync(process.execPath, ['--max-old-space-size=8192', script, beforeSnapshot, afterSnapshot, String(n), '25'], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      console.log(out.trimEnd());
      console.log(`heap snapshots: ${beforeSnapshot}, ${afterSnapshot}`);
    }
    console.log(
      JSON.stringify({
        connections: options.connections,
        open: stillOpen,
        failed,
        failures: Object.fromEntries(failures),
        closedByServer: Object.fromEntries(unexpected),
        relayRssMiB: {
          before: round(rssBefore2, 1),
          after: round(rssAfter2, 1),
          beforeGc: round(before.rss / 1048576, 1),
          afterGc: round(after.rss / 1048576, 1),
          settled: settled ? round(settled.rss, 1) : null,
        },
        kbPerConnection: round(kbPer(rssAfter2, rssBefore2)),
        kbPerConnectionAfterGc: round(kbPer(after.rss / 1048576, before.rss / 1048576)),
        kbPerConnectionSettled: settled ? round(kbPer(settled.rss, rssBefore2)) : null,
        settleSeconds: settled ? options.settle : null,
        heapKbPerConnection: round(perConnBytes(after.heapUsed, before.heapUsed) / 1024),
        externalKbPerConnection: round(perConnBytes(after.external, before.external) / 1024),
        openSeconds: round(openSeconds, 1),
        setup: options.setup,
        setupSeconds: round(setupSeconds, 1),
        cores: cpus().length,
      }),
    );
  } finally {
    state.closing = true;
    for (const socket of state.sockets) socket.terminate();
    await http.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const holder: { services: ServiceProcess[]; stopping?: boolean } = { services: [] };
const state: { closing: boolean; sockets: WebSocket[] } = { closing: false, sockets: [] };
const stopServices = async (): Promise<void> => {
  holder.stopping = true;
  state.closing = true;
  for (const service of [...holder.services].reverse()) await service.stop().catch(() => undefined);
};
runBench(() => main(holder, state), stopServices, 'the relay and the directory');
