import { parseArgs } from 'node:util';
import type { StagePlan } from '../schedule/arrival-schedule';
import { MAX_WORKERS } from '../schedule/send-key';
import { LoadUsageError, parseDuration, parseMetrics, parseNumber, parseShare, parseSize, parseStage, parseUrl } from './load-args-values';
import { LoadOptions, MAX_DEVICES_PER_ACCOUNT, MAX_VERIFY_SENDS, defaultLoadOptions, stagesDurationSeconds } from './load-options';
import { ArrivalSchedule } from '../schedule/arrival-schedule';

/** What a `sealpost loadtest` command line asks for. */
export type LoadCommand =
  | { kind: 'help' }
  | { kind: 'compare'; files: [string, string] }
  | { kind: 'run'; options: LoadOptions; jsonFile?: string; htmlFile?: string; outDir?: string };

const FLAGS = {
  server: { type: 'string', multiple: true },
  spawn: { type: 'string' },
  'registration-token': { type: 'string', multiple: true },
  metrics: { type: 'string', multiple: true },
  accounts: { type: 'string' },
  'devices-per-account': { type: 'string' },
  'accounts-file': { type: 'string' },
  senders: { type: 'string' },
  workers: { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  stage: { type: 'string', multiple: true },
  'start-rate': { type: 'string' },
  'federated-share': { type: 'string' },
  'multi-device-share': { type: 'string' },
  'sealed-share': { type: 'string' },
  size: { type: 'string' },
  'max-in-flight': { type: 'string' },
  'pool-size': { type: 'string' },
  warmup: { type: 'string' },
  verify: { type: 'boolean' },
  conversations: { type: 'boolean' },
  drain: { type: 'string' },
  'max-duration': { type: 'string' },
  'connect-concurrency': { type: 'string' },
  threshold: { type: 'string', multiple: true },
  json: { type: 'string' },
  html: { type: 'string' },
  out: { type: 'string' },
  compare: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses and checks a `sealpost loadtest` command line; throws LoadUsageError (never anything else) on a bad one. */
export function parseLoadArgs(argv: string[]): LoadCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new LoadUsageError((error as Error).message.replace(/\s*To specify a positional argument.*$/s, ''));
  }
  const v = parsed.values;
  if (v.help) return { kind: 'help' };
  if (v.compare) {
    if (parsed.positionals.length !== 2) throw new LoadUsageError('--compare takes two report files: --compare a.json b.json');
    return { kind: 'compare', files: [parsed.positionals[0], parsed.positionals[1]] };
  }
  if (parsed.positionals.length > 0) throw new LoadUsageError(`unexpected argument "${parsed.positionals[0]}"`);

  const servers = (v.server ?? []).map((s) => parseUrl(s, '--server'));
  const spawn = v.spawn === undefined ? 0 : parseNumber(v.spawn, '--spawn', 1, 8);
  if (servers.length === 0 && spawn === 0) throw new LoadUsageError('no target: give --server URL (repeatable) or --spawn N');
  if (servers.length > 0 && spawn > 0) throw new LoadUsageError('--server and --spawn exclude each other');
  if (spawn > 0 && v['accounts-file'] !== undefined)
    throw new LoadUsageError('--accounts-file needs --server targets: spawned homeservers start empty on every run');
  const targets = spawn || servers.length;
  const tokens = v['registration-token'] ?? [];
  if (tokens.length > 1 && tokens.length !== targets)
    throw new LoadUsageError(`--registration-token: give one for all targets or one per target (${targets})`);

  const stages = stagesOf(v.rate, v.duration, v.stage ?? []);
  const accounts = v.accounts === undefined ? 100 : parseNumber(v.accounts, '--accounts', 1, 1_000_000);
  const devicesPerAccount =
    v['devices-per-account'] === undefined ? 1 : parseNumber(v['devices-per-account'], '--devices-per-account', 1, MAX_DEVICES_PER_ACCOUNT);
  const share = (flag: keyof typeof v, fallback: number) => (v[flag] === undefined ? fallback : parseShare(v[flag] as string, `--${flag}`));
  const federatedShare = share('federated-share', targets > 1 ? 0.5 : 0);
  const multiDeviceShare = share('multi-device-share', devicesPerAccount > 1 ? 1 : 0);
  if (federatedShare > 0 && targets < 2) throw new LoadUsageError('--federated-share needs two or more targets');
  if (multiDeviceShare > 0 && devicesPerAccount < 2) throw new LoadUsageError('--multi-device-share needs --devices-per-account 2 or more');
  const drainSeconds = v.drain === undefined ? 10 : parseDuration(v.drain, '--drain');
  const options = defaultLoadOptions({
    servers,
    spawn,
    registrationTokens: tokens,
    metrics: (v.metrics ?? []).map(parseMetrics),
    accounts,
    devicesPerAccount,
    accountsFile: v['accounts-file'],
    senders: v.senders === undefined ? 0 : parseNumber(v.senders, '--senders', 1, accounts * devicesPerAccount),
    workers: v.workers === undefined ? 1 : parseNumber(v.workers, '--workers', 1, MAX_WORKERS),
    stages,
    startRate:
      v['start-rate'] !== undefined ? parseNumber(v['start-rate'], '--start-rate', 0, 1_000_000, false) : v.stage ? 0 : stages[0].rateTo,
    federatedShare,
    multiDeviceShare,
    sealedShare: share('sealed-share', 1),
    size: v.size === undefined ? { min: 64, max: 512 } : parseSize(v.size),
    maxInFlight: v['max-in-flight'] === undefined ? 10_000 : parseNumber(v['max-in-flight'], '--max-in-flight', 1),
    poolSize: v['pool-size'] === undefined ? 2048 : parseNumber(v['pool-size'], '--pool-size', 1, 1_000_000),
    warmupSends: v.warmup === undefined ? 0 : parseNumber(v.warmup, '--warmup', 0, 10_000_000),
    verify: v.verify ?? false,
    conversations: v.conversations ?? false,
    drainSeconds,
    maxDurationSeconds: v['max-duration'] === undefined ? 0 : parseDuration(v['max-duration'], '--max-duration'),
    connectConcurrency:
      v['connect-concurrency'] === undefined ? 200 : parseNumber(v['connect-concurrency'], '--connect-concurrency', 1, 100_000),
    thresholds: v.threshold ?? [],
    quiet: v.quiet ?? false,
  });
  if (options.workers > options.senders)
    throw new LoadUsageError(`--workers ${options.workers} is more than the ${options.senders} sending devices`);
  if (options.verify && options.warmupSends > 0) throw new LoadUsageError('--warmup reuses pooled envelopes: not with --verify');
  const total = new ArrivalSchedule(options.stages, options.startRate).totalArrivals;
  if (options.verify && total > MAX_VERIFY_SENDS)
    throw new LoadUsageError(
      `--verify seals every send before the clock starts: at most ${MAX_VERIFY_SENDS} sends (this plan has ${total})`,
    );
  return { kind: 'run', options, jsonFile: v.json, htmlFile: v.html, outDir: v.out };
}

function stagesOf(rate: string | undefined, duration: string | undefined, stageTexts: string[]): StagePlan[] {
  if (stageTexts.length > 0) {
    if (rate !== undefined || duration !== undefined) throw new LoadUsageError('--stage excludes --rate and --duration');
    return stageTexts.map(parseStage);
  }
  const perSecond = rate === undefined ? 100 : parseNumber(rate, '--rate', 0.001, 1_000_000, false);
  const seconds = duration === undefined ? 30 : parseDuration(duration, '--duration');
  if (seconds <= 0) throw new LoadUsageError('--duration must be more than 0');
  return [{ label: `${duration ?? '30s'}:${perSecond}`, durationSeconds: seconds, rateTo: perSecond }];
}
