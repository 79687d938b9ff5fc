/**
 * Prekey directory throughput: bundle claims and one-time key uploads, closed loop, N concurrent
 * clients against ONE directory process that this script spawns (with its own database).
 *
 *   npm run bench:directory -- [--seconds 15] [--warmup 3] [--upload-seconds 10] [--clients 50] [--targets 500]
 *
 * `--cpu-prof DIR` writes a V8 CPU profile of the directory into DIR (open it in Chrome DevTools).
 *
 * Each target holds 100 EC + 100 PQ one-time keys, so claims take real keys until about
 * targets × 100 claims have been made; later claims fall back (EC null, PQ last resort). The
 * report says how many measured claims took a key.
 */
import { availableParallelism } from 'node:os';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { Pool } from 'undici';
import { DeviceKeyMaterial } from '@sealpost/client';
import { runBench } from './support/bench-main';
import { LoopResult, mapConcurrent, runClosedLoop } from './support/closed-loop';
import { CpuSampler, CpuUse, pidsByName, rssMiB } from './support/proc-stats';
import { ServiceProcess, freePort, spawnService } from './support/service-process';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sealpost_bench';
const SERVER_NAME = 'bench.sealpost';
const KEYS_PER_KIND = 100;
const UPLOAD_BODY_POOL = 256;
/** The per requester → target claim token bucket, raised so the bench is never throttled. */
const CLAIM_RATE_BURST = 10_000_000;
const CLAIM_RATE_PER_MINUTE = 100_000_000;

interface Options {
  seconds: number;
  warmup: number;
  uploadSeconds: number;
  clients: number;
  targets: number;
  cpuProfDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { seconds: 15, warmup: 3, uploadSeconds: 10, clients: 50, targets: 500 };
  const names: Record<string, 'seconds' | 'warmup' | 'uploadSeconds' | 'clients' | 'targets'> = {
    '--seconds': 'seconds',
    '--warmup': 'warmup',
    '--upload-seconds': 'uploadSeconds',
    '--clients': 'clients',
    '--targets': 'targets',
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
  if (options.clients < 1 || options.targets < 1) throw new Error('--clients and --targets must be at least 1');
  return options;
}

/** Each run starts clean: drop the directory schema of the bench database (the service re-migrates). */
async function resetBenchSchema(): Promise<void> {
  const client = new Client({ connectionString: DATABASE_URL });
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return; // database not created yet: the service creates it
    throw error;
  }
  try {
    await client.query('DROP SCHEMA IF EXISTS directory CASCADE');
  } finally {
    await client.end();
  }
}

interface Account {
  localpart: string;
  auth: Record<string, string>;
}

async function register(http: Pool, localpart: string, withOneTimeKeys: boolean): Promise<Account> {
  const count = withOneTimeKeys ? KEYS_PER_KIND : 0;
  const body = DeviceKeyMaterial.generate({ reuseKemKey: true }).registration(localpart, { preKeys: count, pqPreKeys: count });
  const answer = await http.request({
    method: 'POST',
    path: '/v1/accounts',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 201) throw new Error(`registering ${localpart}: ${answer.statusCode} ${text}`);
  const { token } = JSON.parse(text) as { token: string };
  return { localpart, auth: { authorization: `Bearer ${token}` } };
}

const ms = (value: number): string => value.toFixed(2).padStart(8);
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

function printPhase(label: string, result: LoopResult, unit: string): void {
  const perSec = (result.ok * 1000) / result.elapsedMs;
  const l = result.latency;
  console.log(
    `${label.padEnd(14)} ${perSec.toFixed(0).padStart(7)} ${unit}/s   p50 ${ms(l.percentileMs(50))}  p99 ${ms(l.percentileMs(99))}  ` +
      `max ${ms(l.maxMs)} ms   ok ${result.ok}  errors ${result.errorCount}` +
      (result.errorCount ? ` ${JSON.stringify(Object.fromEntries(result.errors))}` : ''),
  );
}

/** Postgres backends serving the bench database (i.e. the directory's pool), Redis, and the directory itself. */
async function cpuGroups(directoryPid: number): Promise<Record<string, number[]>> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return { directory: [directoryPid], 'postgres backends': rows.map((r) => r.pid), 'redis (shared)': pidsByName('redis-server') };
  } finally {
    await client.end();
  }
}

function printCpu(label: string, cpu: CpuUse): void {
  const groups = Object.entries(cpu.groups)
    .map(([name, pct]) => `${name} ${pct.toFixed(0)}%`)
    .join(', ');
  console.log(
    `${''.padEnd(14)} cpu during ${label} (% of one core): ${groups}, bench client ${cpu.selfPct.toFixed(0)}%, ` +
      `anything else ${cpu.otherPct.toFixed(0)}%; machine ${cpu.machinePct.toFixed(0)}% of ${cpus().length * 100}%`,
  );
}

async function main(service: { current?: ServiceProcess }): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const root = resolve(__dirname, '..', '..');
  await resetBenchSchema();
  const port = await freePort();
  const redisPrefix = `bench:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
  const directory = spawnService({
    name: 'directory',
    entry: resolve(root, 'dist/apps/prekey-directory/src/main.js'),
    port,
    nodeArgs: options.cpuProfDir
      ? ['-r', resolve(__dirname, 'support/exit-on-sigterm.js'), '--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`]
      : [],
    env: {
      DIRECTORY_PORT: String(port),
      BIND_HOST: '127.0.0.1',
      DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: redisPrefix,
      SERVER_NAME,
      OPEN_REGISTRATION: 'true',
      REGISTRATION_RATE_BURST: '1000000000',
      LOG_LEVEL: 'warn',
      CLAIM_RATE_BURST: String(CLAIM_RATE_BURST),
      CLAIM_RATE_PER_MINUTE: String(CLAIM_RATE_PER_MINUTE),
    },
  });
  service.current = directory;
  await directory.waitUntilHealthy();
  const http = new Pool(directory.baseUrl, { connections: options.clients, pipelining: 1 });
  try {
    // ---- setup (not measured) ----
    const setupStart = Date.now();
    const targetNames = Array.from({ length: options.targets }, (_, i) => `target${i}`);
    const targets = await mapConcurrent(targetNames, 8, (name) => register(http, name, true));
    const requesters = await mapConcurrent(
      Array.from({ length: options.clients }, (_, i) => `requester${i}`),
      8,
      (name) => register(http, name, false),
    );
    const claimPaths = targets.map((t) => `/v1/keys/${encodeURIComponent(`${t.localpart}@${SERVER_NAME}`)}/*`);
    const uploader = DeviceKeyMaterial.generate();
    const uploadBodies = Array.from({ length: UPLOAD_BODY_POOL }, (_, i) =>
      JSON.stringify({ preKeys: uploader.preKeys(100_000 + i * KEYS_PER_KIND, KEYS_PER_KIND) }),
    );
    console.log(
      `setup: ${options.targets} targets with ${KEYS_PER_KIND} EC + ${KEYS_PER_KIND} PQ one-time keys each, ${options.clients} requesters, ` +
        `${UPLOAD_BODY_POOL} upload bodies pre-generated (${((Date.now() - setupStart) / 1000).toFixed(1)} s)`,
    );

    // ---- claims ----
    let fallbacks = 0;
    let firstError = '';
    const claim = async (worker: number): Promise<{ status: number }> => {
      const path = claimPaths[Math.floor(Math.random() * claimPaths.length)];
      const answer = await http.request({ method: 'GET', path, headers: requesters[worker].auth });
      const text = await answer.body.text();
      if (answer.statusCode === 200 && text.includes('"preKey":null')) fallbacks++;
      if (answer.statusCode !== 200 && !firstError) firstError = `${answer.statusCode} ${text}`;
      return { status: answer.statusCode };
    };
    await runClosedLoop(options.clients, options.warmup, claim);
    fallbacks = 0;
    const claimCpu = new CpuSampler(await cpuGroups(directory.pid));
    const claims = await runClosedLoop(options.clients, options.seconds, claim);
    const claimCpuUse = claimCpu.finish();

    // ---- uploads ----
    let nextBody = 0;
    const upload = async (worker: number): Promise<{ status: number }> => {
      const body = uploadBodies[nextBody++ % uploadBodies.length];
      const answer = await http.request({
        method: 'PUT',
        path: '/v1/keys',
        headers: { ...requesters[worker].auth, 'content-type': 'application/json' },
        body,
      });
      const text = await answer.body.text();
      if (answer.statusCode !== 204 && !firstError) firstError = `${answer.statusCode} ${text}`;
      return { status: answer.statusCode };
    };
    const uploadWarmup = Math.min(options.warmup, 1);
    await runClosedLoop(options.clients, uploadWarmup, upload);
    const uploadCpu = new CpuSampler(await cpuGroups(directory.pid));
    const uploads = await runClosedLoop(options.clients, options.uploadSeconds, upload);
    const uploadCpuUse = uploadCpu.finish();
    const rss = rssMiB(directory.pid);

    // ---- report ----
    const claimsPerSec = (claims.ok * 1000) / claims.elapsedMs;
    const uploadsPerSec = (uploads.ok * 1000) / uploads.elapsedMs;
    console.log('');
    console.log(
      `prekey directory bench: 1 directory process, ${options.clients} concurrent closed-loop clients on the same machine, ${cpus().length} cores, node ${process.version}`,
    );
    console.log(
      `NOTE: claim rate limit raised for the bench (CLAIM_RATE_BURST=${CLAIM_RATE_BURST}, CLAIM_RATE_PER_MINUTE=${CLAIM_RATE_PER_MINUTE}); the default per requester→target bucket would throttle it.`,
    );
    console.log(
      `directory DB pool: ${process.env.DIRECTORY_DB_POOL_SIZE ?? `${4 * availableParallelism()} (default: 4 × cores)`} connections; client: undici Pool, ${options.clients} keep-alive connections`,
    );
    console.log(
      `claims: GET /v1/keys/{address}/* (bearer auth), random target of ${options.targets}, ${options.warmup} s warm-up + ${options.seconds} s measured`,
    );
    printPhase('bundle claims', claims, 'claims');
    printCpu('claims', claimCpuUse);
    console.log(
      `${''.padEnd(14)} ${claims.ok - fallbacks} of ${claims.ok} measured claims took a one-time EC key; ${fallbacks} found none (EC null, PQ last resort)`,
    );
    console.log(
      `uploads: PUT /v1/keys with ${KEYS_PER_KIND} EC one-time keys (a pool of ${UPLOAD_BODY_POOL} pre-built bodies), ${uploadWarmup} s warm-up + ${options.uploadSeconds} s measured`,
    );
    printPhase('key uploads', uploads, 'uploads');
    printCpu('uploads', uploadCpuUse);
    console.log(`directory RSS at end: ${rss === null ? 'unknown' : `${rss.toFixed(1)} MiB`} (pid ${directory.pid})`);
    if (options.cpuProfDir) console.log(`directory CPU profile: written to ${options.cpuProfDir} when the directory stops`);
    if (firstError) console.log(`first error answer: ${firstError.slice(0, 300)}`);
    console.log(
      JSON.stringify({
        claimsPerSec: round(claimsPerSec, 1),
        claimP50Ms: round(claims.latency.percentileMs(50)),
        claimP99Ms: round(claims.latency.percentileMs(99)),
        claimMaxMs: round(claims.latency.maxMs),
        uploadsPerSec: round(uploadsPerSec, 1),
        uploadP50Ms: round(uploads.latency.percentileMs(50)),
        uploadP99Ms: round(uploads.latency.percentileMs(99)),
        errors: claims.errorCount + uploads.errorCount,
        clients: options.clients,
        cores: cpus().length,
        directoryRssMiB: rss === null ? null : round(rss, 1),
      }),
    );
  } finally {
    await http.close();
  }
}

const service: { current?: ServiceProcess } = {};
const stopService = async (): Promise<void> => {
  await service.current?.stop().catch(() => undefined);
};
runBench(() => main(service), stopService, 'the directory');
