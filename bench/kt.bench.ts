/**
 * Key-transparency log at 10^6 leaves: append throughput and proof latency.
 *
 *   npm run bench:kt -- [--leaves 1000000] [--batch 10000] [--singles 1000] [--accounts 200]
 *                       [--reg-concurrency 20] [--requests 2000] [--concurrency 10]
 *
 * Uses its own database `sealpost_bench_kt` (the `directory` schema is dropped and re-migrated
 * every run). Phases:
 *  1. bulk load: `TransparencyLog.appendRecords` in transactions of `--batch` synthetic records,
 *     each holding `KtLogRepository.lockTreeSize` — the real storage path (kt_leaves + kt_nodes);
 *  2. single-record appends in-process at the top of the 10^6-leaf log (one record a transaction,
 *     concurrency 1 and 8, serialised on the tree-size lock);
 *  3. the production path: a directory process (OPEN_REGISTRATION, KT_EPOCH_SECONDS=1) registers
 *     `--accounts` accounts over HTTP; each registration appends one leaf in its transaction;
 *  4. proofs against the signed head: GET /v1/kt/inclusion and /v1/kt/consistency over HTTP, and
 *     `TransparencyLog.inclusion` / `consistency` in-process. Every returned proof is verified
 *     with `verifyInclusion` / `verifyConsistency` against the signed head's root (whose Ed25519
 *     signature and value are checked against an independent in-memory reference tree).
 */
import 'reflect-metadata';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool as PgPool } from 'pg';
import { Pool as HttpPool } from 'undici';
import { loadDirectoryConfig } from '@sealpost/config';
import { initCrypto, verifyEd25519 } from '@sealpost/crypto';
import { createPool, ensureDatabase, migrateUp, withTransaction } from '@sealpost/db';
import {
  KtRecord,
  SignedTreeHead,
  encodeKtRecord,
  ktHeadSigningBytes,
  leafHash,
  verifyConsistency,
  verifyInclusion,
} from '@sealpost/transparency';
import { directoryMigrations } from '../apps/prekey-directory/src/migrations';
import { DevicesRepository } from '../apps/prekey-directory/src/devices/devices.repository';
import { KtLogRepository } from '../apps/prekey-directory/src/transparency/kt-log.repository';
import { TransparencyLog } from '../apps/prekey-directory/src/transparency/transparency-log.service';
import { KtHeadSigner } from '../apps/prekey-directory/src/transparency/kt-head-signer.service';
import { KtHeadsRepository } from '../apps/prekey-directory/src/transparency/kt-heads.repository';
import { KtSigningKey } from '../apps/prekey-directory/src/transparency/kt-signing-key.service';
import { DirectoryMetrics } from '../apps/prekey-directory/src/directory.metrics';
import { ServiceMetrics } from '@sealpost/http';
import { runBench } from './support/bench-main';
import { mapConcurrent } from './support/closed-loop';
import { LatencyHistogram } from './support/histogram';
import { KtReferenceTree } from './support/kt-reference';
import { CpuSampler, CpuUse, pidsByName, rssMiB } from './support/proc-stats';
import { ServiceProcess, freePort, spawnService } from './support/service-process';
import { DeviceKeyMaterial } from '@sealpost/client';

const DATABASE_URL = process.env.BENCH_KT_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/sealpost_bench_kt';
const SERVER_NAME = 'bench.sealpost';
const BENCH_DOMAIN = 'bench.test';

interface Options {
  leaves: number;
  batch: number;
  singles: number;
  accounts: number;
  regConcurrency: number;
  requests: number;
  concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    leaves: 1_000_000,
    batch: 10_000,
    singles: 1000,
    accounts: 200,
    regConcurrency: 20,
    requests: 2000,
    concurrency: 10,
  };
  const names: Record<string, keyof Options> = {
    '--leaves': 'leaves',
    '--batch': 'batch',
    '--singles': 'singles',
    '--accounts': 'accounts',
    '--reg-concurrency': 'regConcurrency',
    '--requests': 'requests',
    '--concurrency': 'concurrency',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isInteger(value) || value < 0) throw new Error(`usage: [${Object.keys(names).join(' N] [')} N]`);
    options[key] = value;
  }
  if (options.leaves < 1 || options.batch < 1 || options.requests < 1 || options.concurrency < 1 || options.regConcurrency < 1) {
    throw new Error('--leaves, --batch, --requests, --concurrency and --reg-concurrency must be at least 1');
  }
  return options;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
const seconds = (startNs: bigint): number => Number(process.hrtime.bigint() - startNs) / 1e9;
const log = (line: string): void => console.log(`[kt-bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const b64 = (text: string): Buffer => Buffer.from(text, 'base64');

function syntheticRecord(address: string): KtRecord {
  const identityKey = randomBytes(33);
  identityKey[0] = 0x05;
  return {
    address,
    version: 1,
    identityKey: identityKey.toString('base64'),
    devices: [{ deviceId: 1, registrationId: 1 + randomInt(0x3ffe) }],
    prevHash: null,
    timestamp: Date.now(),
  };
}

const bulkAddress = (n: number): string => `user-${n}@${BENCH_DOMAIN}`;

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}
const pct = (h: LatencyHistogram): Percentiles => ({
  p50: round(h.percentileMs(50), 3),
  p99: round(h.percentileMs(99), 3),
  max: round(h.maxMs, 3),
  mean: round(h.meanMs, 3),
});

async function postgresPids(pool: PgPool, exceptOwn: boolean): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database()${exceptOwn ? ' AND application_name <> $1' : ''}`,
    exceptOwn ? ['sealpost-bench-kt'] : [],
  );
  return rows.map((r) => r.pid);
}

/** WAL writer, checkpointer, background writer, autovacuum: shared with everything else on this Postgres. */
async function postgresBackground(pool: PgPool): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'`);
  return rows.map((r) => r.pid);
}

function cpuLine(label: string, cpu: CpuUse): string {
  const groups = Object.entries(cpu.groups)
    .map(([name, value]) => `${name} ${value.toFixed(0)}%`)
    .join(', ');
  return `cpu during ${label} (% of one core): ${groups}, bench ${cpu.selfPct.toFixed(0)}%, other ${cpu.otherPct.toFixed(0)}%; machine ${cpu.machinePct.toFixed(0)}% of ${cpus().length * 100}%`;
}

async function httpGetJson<T>(http: HttpPool, path: string): Promise<{ status: number; body: T }> {
  const answer = await http.request({ method: 'GET', path });
  const text = await answer.body.text();
  return { status: answer.statusCode, body: (answer.statusCode === 200 ? JSON.parse(text) : text) as T };
}

interface InclusionAnswer {
  leaf: string;
  leafIndex: number;
  treeSize: number;
  auditPath: string[];
  head: SignedTreeHead;
}
interface ConsistencyAnswer {
  from: number;
  to: number;
  proof: string[];
}

async function main(service: { current?: ServiceProcess }): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const root = resolve(__dirname, '..', '..');
  const keysDir = mkdtempSync(join(tmpdir(), 'sealpost-bench-kt-keys-'));
  const started = process.hrtime.bigint();
  log(
    `${cpus().length} cores, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; options ${JSON.stringify(options)}`,
  );
  await initCrypto();

  // ---- 0. fresh schema ----
  await ensureDatabase(DATABASE_URL);
  const pool = createPool(DATABASE_URL, 10, 'sealpost-bench-kt');
  await pool.query('DROP SCHEMA IF EXISTS directory CASCADE');
  const applied = await migrateUp(pool, directoryMigrations(keysDir));
  log(`database sealpost_bench_kt: schema directory dropped and migrated (${applied.join(', ')})`);
  const config = loadDirectoryConfig({ DATABASE_URL, SERVER_NAME, KEYS_DIR: keysDir, KT_EPOCH_SECONDS: '1', LOG_LEVEL: 'warn' });
  const repo = new KtLogRepository(pool);
  const transparency = new TransparencyLog(config, repo, new DevicesRepository(pool));
  const expectedTotal = options.leaves + options.singles + options.accounts + Math.min(20, options.accounts);
  const reference = new KtReferenceTree(expectedTotal + 64);

  const summary: Record<string, unknown> = { leaves: options.leaves, cores: cpus().length, loadAvgAtStart: round(loadavg()[0]) };
  let directory: ServiceProcess | undefined;
  let http: HttpPool | undefined;
  try {
    // ---- 1. bulk load ----
    log(
      `phase 1: bulk-loading ${options.leaves} leaves via TransparencyLog.appendRecords, ${options.batch} records a transaction (lockTreeSize held)`,
    );
    const bulkCpu = new CpuSampler({
      'postgres backend (bench)': await postgresPids(pool, false),
      'postgres background (shared)': await postgresBackground(pool),
    });
    const bulkStart = process.hrtime.bigint();
    let txSeconds = 0;
    let lastProgress = process.hrtime.bigint();
    const batchLatency = new LatencyHistogram();
    for (let first = 0; first < options.leaves; first += options.batch) {
      const count = Math.min(options.batch, options.leaves - first);
      const records = Array.from({ length: count }, (_, i) => syntheticRecord(bulkAddress(first + i)));
      const t0 = process.hrtime.bigint();
      await withTransaction(pool, async (tx) => {
        const size = await repo.lockTreeSize(tx);
        if (size !== first) throw new Error(`tree size ${size}, expected ${first}`);
        await transparency.appendRecords(records, size, tx);
      });
      batchLatency.recordSince(t0);
      txSeconds += seconds(t0);
      // Reference leaf hashes, outside the timed transaction.
      records.forEach((r, i) => reference.setLeaf(first + i, leafHash(encodeKtRecord(r))));
      const done = first + count;
      if (seconds(lastProgress) >= 5 || done === options.leaves) {
        lastProgress = process.hrtime.bigint();
        log(
          `  ${done.toLocaleString('en-US')} leaves, ${(done / txSeconds).toFixed(0)} leaves/s in transactions, ${seconds(bulkStart).toFixed(1)} s elapsed`,
        );
      }
    }
    const bulkWall = seconds(bulkStart);
    const bulkCpuUse = bulkCpu.finish();
    const nodeCount = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM directory.kt_nodes')).rows[0].n);
    const sizes = (
      await pool.query<{ leaves: string; nodes: string }>(
        `SELECT pg_total_relation_size('directory.kt_leaves') AS leaves, pg_total_relation_size('directory.kt_nodes') AS nodes`,
      )
    ).rows[0];
    const bulk = {
      leavesPerSecTx: round(options.leaves / txSeconds, 0),
      leavesPerSecWall: round(options.leaves / bulkWall, 0),
      wallSeconds: round(bulkWall, 1),
      batchP50Ms: round(batchLatency.percentileMs(50), 1),
      batchP99Ms: round(batchLatency.percentileMs(99), 1),
      nodeCount,
      expectedNodeCount: KtReferenceTree.nodeCount(options.leaves),
      kt_leavesMiB: round(Number(sizes.leaves) / 2 ** 20, 1),
      kt_nodesMiB: round(Number(sizes.nodes) / 2 ** 20, 1),
    };
    log(
      `  bulk: ${bulk.leavesPerSecTx} leaves/s (transaction time), ${bulk.leavesPerSecWall} leaves/s wall; ${nodeCount} nodes in kt_nodes (2n − popcount(n) = ${bulk.expectedNodeCount}); ` +
        `kt_leaves ${bulk.kt_leavesMiB} MiB, kt_nodes ${bulk.kt_nodesMiB} MiB`,
    );
    log(`  ${cpuLine('bulk load', bulkCpuUse)}`);
    summary.bulk = bulk;

    // Planner statistics: a log that grew over time has been auto-analysed; a fresh bulk load may not have been.
    const analysed = (
      await pool.query<{ relname: string; last_autoanalyze: Date | null; n_mod_since_analyze: string }>(
        `SELECT relname, last_autoanalyze, n_mod_since_analyze FROM pg_stat_user_tables WHERE schemaname = 'directory' AND relname IN ('kt_nodes', 'kt_leaves') ORDER BY relname`,
      )
    ).rows;
    const preAnalyze = new LatencyHistogram();
    for (let i = 0; i < 200; i++) {
      const t0 = process.hrtime.bigint();
      await transparency.inclusion(randomInt(options.leaves), options.leaves);
      preAnalyze.recordSince(t0);
    }
    log(
      `  before explicit ANALYZE (${analysed.map((a) => `${a.relname}: autoanalyzed ${a.last_autoanalyze ? 'yes' : 'no'}, ${a.n_mod_since_analyze} rows modified since`).join('; ')}): ` +
        `in-process inclusion p50 ${preAnalyze.percentileMs(50).toFixed(2)} ms p99 ${preAnalyze.percentileMs(99).toFixed(2)} ms (200 samples)`,
    );
    summary.preAnalyzeInclusion = {
      ...pct(preAnalyze),
      autoanalyzed: Object.fromEntries(analysed.map((a) => [a.relname, Boolean(a.last_autoanalyze)])),
    };
    await pool.query('ANALYZE directory.kt_nodes, directory.kt_leaves');
    log('  ANALYZE directory.kt_nodes, directory.kt_leaves done');

    // ---- 2. single-record appends in-process ----
    const singles = { c1: new LatencyHistogram(), c8: new LatencyHistogram(), c1PerSec: 0, c8PerSec: 0 };
    if (options.singles > 0) {
      log(
        `phase 2: ${options.singles} single-record appends in-process (one record a transaction: lockTreeSize + appendRecords + COMMIT), concurrency 1 then 8`,
      );
      let next = 0;
      const appendOne = async (histogram: LatencyHistogram): Promise<void> => {
        const record = syntheticRecord(`single-${next++}@${BENCH_DOMAIN}`);
        const t0 = process.hrtime.bigint();
        const index = await withTransaction(pool, async (tx) => {
          const size = await repo.lockTreeSize(tx);
          await transparency.appendRecords([record], size, tx);
          return size;
        });
        histogram.recordSince(t0);
        reference.setLeaf(index, leafHash(encodeKtRecord(record)));
      };
      const half = Math.floor(options.singles / 2);
      for (const [concurrency, histogram, n, key] of [
        [1, singles.c1, half, 'c1PerSec'],
        [8, singles.c8, options.singles - half, 'c8PerSec'],
      ] as const) {
        const t0 = process.hrtime.bigint();
        await mapConcurrent(
          Array.from({ length: n }, (_, i) => i),
          concurrency,
          () => appendOne(histogram),
        );
        singles[key] = n / seconds(t0);
        log(
          `  concurrency ${concurrency}: ${singles[key].toFixed(0)} appends/s, p50 ${histogram.percentileMs(50).toFixed(2)} ms, p99 ${histogram.percentileMs(99).toFixed(2)} ms`,
        );
      }
    }
    summary.singleAppends = {
      c1PerSec: round(singles.c1PerSec, 0),
      c1: pct(singles.c1),
      c8PerSec: round(singles.c8PerSec, 0),
      c8: pct(singles.c8),
    };

    // ---- 2b. covering heads: the KtHeadSigner's real path at the top of the log ----
    // One record appended, then KtHeadSigner.coverLoggedRecords (advisory lock, tree size, root from
    // ≤ log2(n) node rows, Ed25519, INSERT): what each prompt head costs; and signNow (the epoch head).
    const headKey = new KtSigningKey(config);
    await headKey.onModuleInit();
    const signer = new KtHeadSigner(
      config,
      pool,
      transparency,
      new KtHeadsRepository(pool),
      headKey,
      new DirectoryMetrics(new ServiceMetrics(), transparency),
    );
    const coverHead = new LatencyHistogram();
    const epochHead = new LatencyHistogram();
    for (let i = 0; i < 200; i++) {
      const record = syntheticRecord(`cover-${i}@${BENCH_DOMAIN}`);
      const index = await withTransaction(pool, async (tx) => {
        const size = await repo.lockTreeSize(tx);
        await transparency.appendRecords([record], size, tx);
        return size;
      });
      reference.setLeaf(index, leafHash(encodeKtRecord(record)));
      const t0 = process.hrtime.bigint();
      const head = await signer.coverLoggedRecords();
      coverHead.recordSince(t0);
      if (head.treeSize !== index + 1) throw new Error(`covering head has size ${head.treeSize}, expected ${index + 1}`);
      const t1 = process.hrtime.bigint();
      await signer.signNow();
      epochHead.recordSince(t1);
    }
    headKey.onApplicationShutdown();
    log(
      `phase 2b: covering head after one append p50 ${coverHead.percentileMs(50).toFixed(2)} ms p99 ${coverHead.percentileMs(99).toFixed(2)} ms; ` +
        `epoch re-sign p50 ${epochHead.percentileMs(50).toFixed(2)} ms p99 ${epochHead.percentileMs(99).toFixed(2)} ms`,
    );
    summary.coveringHead = pct(coverHead);
    summary.epochHead = pct(epochHead);

    // ---- 3. registrations through the directory ----
    const port = await freePort();
    directory = spawnService({
      name: 'directory',
      entry: resolve(root, 'dist/apps/prekey-directory/src/main.js'),
      port,
      env: {
        DIRECTORY_PORT: String(port),
        BIND_HOST: '127.0.0.1',
        DATABASE_URL,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        REDIS_PREFIX: `benchkt:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`,
        SERVER_NAME,
        OPEN_REGISTRATION: 'true',
        REGISTRATION_RATE_BURST: '1000000000',
        LOG_LEVEL: 'warn',
        KEYS_DIR: keysDir,
        KT_EPOCH_SECONDS: '1',
      },
    });
    service.current = directory;
    await directory.waitUntilHealthy();
    http = new HttpPool(directory.baseUrl, { connections: Math.max(options.concurrency, options.regConcurrency), pipelining: 1 });
    const warmupAccounts = Math.min(20, options.accounts);
    log(
      `phase 3: directory up (pid ${directory.pid}); pre-generating ${warmupAccounts} + ${options.accounts} registration bodies (real libsignal keys, no one-time keys)`,
    );
    const bodies = Array.from({ length: warmupAccounts + options.accounts }, (_, i) =>
      JSON.stringify(DeviceKeyMaterial.generate().registration(`ktbench${i}`)),
    );
    const registrationErrors = new Map<string, number>();
    const register = async (body: string, histogram?: LatencyHistogram): Promise<void> => {
      const t0 = process.hrtime.bigint();
      const answer = await http!.request({ method: 'POST', path: '/v1/accounts', headers: { 'content-type': 'application/json' }, body });
      const text = await answer.body.text();
      if (answer.statusCode !== 201) {
        const key = `${answer.statusCode} ${text.slice(0, 120)}`;
        registrationErrors.set(key, (registrationErrors.get(key) ?? 0) + 1);
        return;
      }
      histogram?.recordSince(t0);
    };
    await mapConcurrent(bodies.slice(0, warmupAccounts), options.regConcurrency, (body) => register(body));
    const regLatency = new LatencyHistogram();
    const regCpu = new CpuSampler({
      directory: [directory.pid],
      'postgres backends': await postgresPids(pool, true),
      'redis (shared)': pidsByName('redis-server'),
    });
    const regStart = process.hrtime.bigint();
    await mapConcurrent(bodies.slice(warmupAccounts), options.regConcurrency, (body) => register(body, regLatency));
    const regSeconds = seconds(regStart);
    const regCpuUse = regCpu.finish();
    const registrations = {
      ok: regLatency.count,
      perSec: round(regLatency.count / regSeconds, 1),
      ...pct(regLatency),
      errors: Object.fromEntries(registrationErrors),
    };
    log(
      `  ${warmupAccounts} warm-up + ${options.accounts} measured registrations at concurrency ${options.regConcurrency}: ${registrations.perSec} registrations/s ` +
        `(= appends/s on the production path), p50 ${registrations.p50} ms, p99 ${registrations.p99} ms; errors ${registrationErrors.size ? JSON.stringify(registrations.errors) : 0}`,
    );
    log(`  ${cpuLine('registrations', regCpuUse)}`);
    summary.registrations = registrations;

    // Registration leaves: re-derive each leaf hash from the stored record bytes.
    const prior = options.leaves + options.singles;
    const { rows: regLeaves } = await pool.query<{ leaf_index: string; record: Buffer; leaf_hash: Buffer }>(
      'SELECT leaf_index, record, leaf_hash FROM directory.kt_leaves WHERE leaf_index >= $1 ORDER BY leaf_index',
      [prior],
    );
    let storedLeafHashMismatches = 0;
    for (const row of regLeaves) {
      const hash = leafHash(row.record);
      if (!hash.equals(row.leaf_hash)) storedLeafHashMismatches++;
      reference.setLeaf(Number(row.leaf_index), hash);
    }
    const treeSize = await transparency.treeSize();
    log(
      `  log now ${treeSize} leaves (${options.leaves} bulk + ${options.singles} single + ${regLeaves.length} registrations); stored leaf_hash ≠ H(0x00‖record): ${storedLeafHashMismatches}`,
    );

    // ---- 4. proofs against a signed head ----
    let head: SignedTreeHead | undefined;
    const headDeadline = Date.now() + 20_000;
    while (Date.now() < headDeadline) {
      const answer = await httpGetJson<SignedTreeHead>(http, '/v1/kt/head');
      if (answer.status === 200 && answer.body.treeSize === treeSize) {
        head = answer.body;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!head) throw new Error(`no signed head of size ${treeSize} within 20 s`);
    const headSize = head.treeSize;
    const headRoot = b64(head.rootHash);
    const ktKey = JSON.parse(readFileSync(join(keysDir, 'kt-ed25519.json'), 'utf8')) as { keyId: string; publicKey: string };
    const signatureOk = head.keyId === ktKey.keyId && verifyEd25519(b64(ktKey.publicKey), ktHeadSigningBytes(head), b64(head.signature));
    const buildStart = process.hrtime.bigint();
    reference.build(headSize);
    const referenceRootOk = reference.root(headSize).equals(headRoot);
    const inProcessRootOk = (await transparency.root(headSize)).equals(headRoot);
    log(
      `phase 4: signed head treeSize ${headSize}, Ed25519 signature ${signatureOk ? 'valid' : 'INVALID'}, root ${referenceRootOk ? 'equals' : 'DIFFERS FROM'} the independent reference ` +
        `(built in ${seconds(buildStart).toFixed(1)} s), TransparencyLog.root ${inProcessRootOk ? 'agrees' : 'DISAGREES'}`,
    );

    const failures = { inclusionHttp: 0, consistencyHttp: 0, inclusionInProcess: 0, consistencyInProcess: 0 };
    const httpErrors = new Map<string, number>();
    const inclusionPath = (n: number) => `/v1/kt/inclusion?address=${encodeURIComponent(bulkAddress(n))}&version=1&treeSize=${headSize}`;
    const consistencyPathOf = (from: number) => `/v1/kt/consistency?from=${from}&to=${headSize}`;
    const warmup = Math.min(200, options.requests);
    await mapConcurrent(
      Array.from({ length: warmup }, () => randomInt(options.leaves)),
      options.concurrency,
      (n) => httpGetJson(http!, inclusionPath(n)),
    );
    await mapConcurrent(
      Array.from({ length: warmup }, () => 1 + randomInt(headSize)),
      options.concurrency,
      (f) => httpGetJson(http!, consistencyPathOf(f)),
    );

    const runHttp = async <T>(
      label: string,
      params: number[],
      path: (p: number) => string,
    ): Promise<{ latency: LatencyHistogram; perSec: number; answers: (T | null)[]; cpu: CpuUse }> => {
      const latency = new LatencyHistogram();
      const cpu = new CpuSampler({ directory: [directory!.pid], 'postgres backends': await postgresPids(pool, true) });
      const t0 = process.hrtime.bigint();
      const answers = await mapConcurrent(params, options.concurrency, async (p) => {
        const r0 = process.hrtime.bigint();
        try {
          const answer = await httpGetJson<T>(http!, path(p));
          if (answer.status !== 200) {
            httpErrors.set(`${label} ${answer.status}`, (httpErrors.get(`${label} ${answer.status}`) ?? 0) + 1);
            return null;
          }
          latency.recordSince(r0);
          return answer.body;
        } catch (error) {
          httpErrors.set(`${label} ${(error as Error).message}`, (httpErrors.get(`${label} ${(error as Error).message}`) ?? 0) + 1);
          return null;
        }
      });
      return { latency, perSec: params.length / seconds(t0), answers, cpu: cpu.finish() };
    };

    log(
      `  ${options.requests} GET /v1/kt/inclusion (random bulk record, version 1, treeSize=${headSize}), concurrency ${options.concurrency}, after ${warmup} warm-up`,
    );
    const inclusionTargets = Array.from({ length: options.requests }, () => randomInt(options.leaves));
    const incl = await runHttp<InclusionAnswer>('inclusion', inclusionTargets, inclusionPath);
    log(
      `    ${incl.perSec.toFixed(0)} req/s, p50 ${incl.latency.percentileMs(50).toFixed(2)} ms, p99 ${incl.latency.percentileMs(99).toFixed(2)} ms; ${cpuLine('inclusion', incl.cpu)}`,
    );
    log(`  ${options.requests} GET /v1/kt/consistency (random from, to=${headSize}), concurrency ${options.concurrency}`);
    const consistencyFroms = Array.from({ length: options.requests }, () => 1 + randomInt(headSize));
    const cons = await runHttp<ConsistencyAnswer>('consistency', consistencyFroms, consistencyPathOf);
    log(
      `    ${cons.perSec.toFixed(0)} req/s, p50 ${cons.latency.percentileMs(50).toFixed(2)} ms, p99 ${cons.latency.percentileMs(99).toFixed(2)} ms; ${cpuLine('consistency', cons.cpu)}`,
    );
    const directoryRss = rssMiB(directory.pid);

    // Verify every HTTP answer (after the timed runs, so verification does not compete for the CPU).
    let inclusionPathLength = 0;
    let consistencyPathLength = 0;
    incl.answers.forEach((answer, i) => {
      const n = inclusionTargets[i];
      if (!answer) return;
      const leaf = leafHash(b64(answer.leaf));
      const ok =
        answer.leafIndex === n &&
        answer.treeSize === headSize &&
        answer.head.rootHash === head!.rootHash &&
        leaf.equals(reference.leaf(n)) &&
        verifyInclusion(leaf, answer.leafIndex, headSize, answer.auditPath.map(b64), headRoot);
      if (!ok) failures.inclusionHttp++;
      inclusionPathLength = Math.max(inclusionPathLength, answer.auditPath.length);
    });
    cons.answers.forEach((answer, i) => {
      const from = consistencyFroms[i];
      if (!answer) return;
      const ok =
        answer.from === from &&
        answer.to === headSize &&
        verifyConsistency(from, headSize, reference.root(from), headRoot, answer.proof.map(b64));
      if (!ok) failures.consistencyHttp++;
      consistencyPathLength = Math.max(consistencyPathLength, answer.proof.length);
    });
    const verifiedHttp = incl.answers.filter(Boolean).length + cons.answers.filter(Boolean).length;
    log(
      `  verified ${verifiedHttp} HTTP proofs against the signed root: ${failures.inclusionHttp} inclusion and ${failures.consistencyHttp} consistency failures; ` +
        `HTTP errors ${httpErrors.size ? JSON.stringify(Object.fromEntries(httpErrors)) : 0}`,
    );

    // In-process: TransparencyLog.inclusion / consistency, sequential (one query each).
    log(`  ${options.requests} in-process TransparencyLog.inclusion and ${options.requests} consistency calls, sequential`);
    const inInclusion = new LatencyHistogram();
    for (let i = 0; i < options.requests; i++) {
      const n = randomInt(headSize);
      const t0 = process.hrtime.bigint();
      const path = await transparency.inclusion(n, headSize);
      inInclusion.recordSince(t0);
      if (!verifyInclusion(reference.leaf(n), n, headSize, path, headRoot)) failures.inclusionInProcess++;
    }
    const inConsistency = new LatencyHistogram();
    for (let i = 0; i < options.requests; i++) {
      const from = 1 + randomInt(headSize);
      const t0 = process.hrtime.bigint();
      const proof = await transparency.consistency(from, headSize);
      inConsistency.recordSince(t0);
      if (!verifyConsistency(from, headSize, reference.root(from), headRoot, proof)) failures.consistencyInProcess++;
    }
    log(
      `    inclusion p50 ${inInclusion.percentileMs(50).toFixed(3)} ms p99 ${inInclusion.percentileMs(99).toFixed(3)} ms; ` +
        `consistency p50 ${inConsistency.percentileMs(50).toFixed(3)} ms p99 ${inConsistency.percentileMs(99).toFixed(3)} ms; ` +
        `failures ${failures.inclusionInProcess} + ${failures.consistencyInProcess}`,
    );

    // ---- 5. report ----
    const row = (label: string, value: string, note = ''): void => console.log(`${label.padEnd(44)} ${value.padStart(22)}  ${note}`);
    const lat = (h: LatencyHistogram): string => `${h.percentileMs(50).toFixed(2)} / ${h.percentileMs(99).toFixed(2)} ms`;
    console.log('');
    console.log(
      `key-transparency bench: log of ${headSize.toLocaleString('en-US')} leaves, ${cpus().length} cores, node ${process.version}, ` +
        `load average at start ${summary.loadAvgAtStart}, now ${loadavg()[0].toFixed(2)}; total ${seconds(started).toFixed(0)} s`,
    );
    row('metric', 'value', 'notes');
    row(
      'bulk appends (appendRecords, tx of ' + options.batch + ')',
      `${bulk.leavesPerSecTx} leaves/s`,
      `wall ${bulk.leavesPerSecWall}/s incl. generation; batch p50/p99 ${bulk.batchP50Ms}/${bulk.batchP99Ms} ms`,
    );
    row(
      'kt_nodes rows after bulk',
      String(nodeCount),
      `2n − popcount(n) = ${bulk.expectedNodeCount}; kt_leaves ${bulk.kt_leavesMiB} MiB, kt_nodes ${bulk.kt_nodesMiB} MiB`,
    );
    if (options.singles > 0) {
      row('single appends in-process, concurrency 1', `${singles.c1PerSec.toFixed(0)}/s`, `p50/p99 ${lat(singles.c1)}`);
      row(
        'single appends in-process, concurrency 8',
        `${singles.c8PerSec.toFixed(0)}/s`,
        `p50/p99 ${lat(singles.c8)} (serialised on kt_state lock)`,
      );
    }
    row('covering head (KtHeadSigner.coverLoggedRecords)', lat(coverHead), 'p50 / p99 after one append: lock, root, Ed25519, INSERT');
    row('epoch head (KtHeadSigner.signNow)', lat(epochHead), 'p50 / p99');
    row(
      `registrations over HTTP, concurrency ${options.regConcurrency}`,
      `${registrations.perSec}/s`,
      `p50/p99 ${registrations.p50} / ${registrations.p99} ms; one leaf each`,
    );
    row(
      `GET /v1/kt/inclusion, concurrency ${options.concurrency}`,
      lat(incl.latency),
      `p50 / p99; ${incl.perSec.toFixed(0)} req/s; audit path ≤ ${inclusionPathLength} hashes`,
    );
    row(
      `GET /v1/kt/consistency, concurrency ${options.concurrency}`,
      lat(cons.latency),
      `p50 / p99; ${cons.perSec.toFixed(0)} req/s; proof ≤ ${consistencyPathLength} hashes`,
    );
    row('TransparencyLog.inclusion in-process', lat(inInclusion), 'p50 / p99, sequential');
    row('TransparencyLog.consistency in-process', lat(inConsistency), 'p50 / p99, sequential');
    row('in-process inclusion before ANALYZE', lat(preAnalyze), 'p50 / p99, 200 samples right after the bulk load');
    row(
      'proof verification failures',
      String(Object.values(failures).reduce((a, b) => a + b, 0)),
      `of ${verifiedHttp + 2 * options.requests} verified; head signature ${signatureOk ? 'ok' : 'BAD'}, reference root ${referenceRootOk ? 'ok' : 'BAD'}`,
    );
    row('directory RSS at end', directoryRss === null ? 'unknown' : `${directoryRss.toFixed(1)} MiB`);

    Object.assign(summary, {
      treeSize: headSize,
      headSignatureOk: signatureOk,
      referenceRootOk,
      inProcessRootOk,
      storedLeafHashMismatches,
      inclusionHttp: { ...pct(incl.latency), perSec: round(incl.perSec, 0), ok: incl.latency.count, maxPathLength: inclusionPathLength },
      consistencyHttp: {
        ...pct(cons.latency),
        perSec: round(cons.perSec, 0),
        ok: cons.latency.count,
        maxPathLength: consistencyPathLength,
      },
      inclusionInProcess: pct(inInclusion),
      consistencyInProcess: pct(inConsistency),
      verificationFailures: failures,
      verifiedProofs: verifiedHttp + 2 * options.requests,
      httpErrors: Object.fromEntries(httpErrors),
      directoryRssMiB: directoryRss === null ? null : round(directoryRss, 1),
      totalSeconds: round(seconds(started), 1),
      loadAvgAtEnd: round(loadavg()[0]),
    });
    console.log(JSON.stringify(summary));
    const bad =
      Object.values(failures).some((f) => f > 0) || !signatureOk || !referenceRootOk || !inProcessRootOk || storedLeafHashMismatches > 0;
    if (bad) process.exitCode = 2;
  } finally {
    await http?.close().catch(() => undefined);
    await directory?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    rmSync(keysDir, { recursive: true, force: true });
  }
}

const service: { current?: ServiceProcess } = {};
const stopService = async (): Promise<void> => {
  await service.current?.stop().catch(() => undefined);
};
runBench(() => main(service), stopService, 'the directory', { stopAfter: false });
