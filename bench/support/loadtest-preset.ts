import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_USAGE,
  InterruptedBeforeLoadError,
  LatencySummary,
  LoadHooks,
  LoadOptions,
  LoadReport,
  ServiceKind,
  renderSummaryTable,
  runLoadTest,
  writeReportFiles,
} from '@sealpost/loadtest';

/** A numeric flag of a preset: its default and its smallest value. */
export interface PresetFlag {
  default: number;
  min: number;
  help: string;
}

export interface PresetDefinition<F extends string> {
  /** "bench:relay" */
  name: string;
  /** One paragraph on what the preset runs. */
  about: string;
  flags: Record<F, PresetFlag>;
  /** Flags the old bench took that mean nothing now, with what to use instead (told in the usage). */
  dropped: string;
  options: (values: Record<F, number>) => LoadOptions;
  /** The headline lines printed after the summary table. */
  headline: (report: LoadReport, values: Record<F, number>, extra: PresetExtra) => string[];
  /** Hooks of the preset's own (e.g. a memory reading before the sockets open). */
  hooks?: (extra: PresetExtra) => Pick<LoadHooks, 'beforeConnect'>;
}

/** What a preset's hooks measured outside the report, for its headline. */
export type PresetExtra = Record<string, number | undefined>;

export class PresetUsageError extends Error {}

/** The usage text: every flag with its default, `--out DIR`, and the flags that were dropped. */
export function presetUsage<F extends string>(preset: PresetDefinition<F>): string {
  const flags = Object.entries<PresetFlag>(preset.flags).map(
    ([flag, f]) => `  --${flag} N`.padEnd(24) + `${f.help} (default ${f.default})`,
  );
  return [
    `usage: npm run ${preset.name} -- [flags]`,
    '',
    preset.about,
    '',
    ...flags,
    '  --out DIR'.padEnd(24) + 'folder for the JSON and HTML report (default: a new temporary folder)',
    '  --help'.padEnd(24) + 'this text',
    '',
    `No longer taken: ${preset.dropped}`,
    '',
  ].join('\n');
}

/** The preset's flags parsed strictly: an unknown flag, a missing or non-numeric value or one below its minimum is a usage error. */
export function parsePresetArgs<F extends string>(
  preset: PresetDefinition<F>,
  argv: string[],
): { help: true } | { help: false; values: Record<F, number>; outDir?: string } {
  const spec: Record<string, { type: 'string' | 'boolean' }> = { out: { type: 'string' }, help: { type: 'boolean' } };
  for (const flag of Object.keys(preset.flags)) spec[flag] = { type: 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false });
  } catch (error) {
    throw new PresetUsageError((error as Error).message.replace(/\s*To specify a positional argument.*$/s, ''));
  }
  if (parsed.values.help) return { help: true };
  const values = {} as Record<F, number>;
  for (const [flag, f] of Object.entries<PresetFlag>(preset.flags)) {
    const text = parsed.values[flag] as string | undefined;
    const value = text === undefined ? f.default : Number(text);
    if (!Number.isFinite(value) || value < f.min) throw new PresetUsageError(`--${flag} must be a number ≥ ${f.min} (got "${text}")`);
    values[flag as F] = value;
  }
  return { help: false, values, outDir: parsed.values.out as string | undefined };
}

/**
 * Runs a preset of the load engine: parses its flags, runs `runLoadTest` (Ctrl-C ends it as
 * interrupted, with the report of what ran), prints the engine's summary table and the preset's
 * headline, writes the JSON and HTML report. Resolves with the exit code (2 on a usage error).
 */
export async function runPreset<F extends string>(preset: PresetDefinition<F>, argv: string[]): Promise<number> {
  let parsed;
  let options: LoadOptions;
  try {
    parsed = parsePresetArgs(preset, argv);
    if (parsed.help) {
      process.stdout.write(presetUsage(preset));
      return 0;
    }
    options = preset.options(parsed.values);
    if (options.workers > options.senders)
      throw new PresetUsageError(`--workers ${options.workers} is more than the ${options.senders} sending devices`);
  } catch (error) {
    if (!(error instanceof PresetUsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${presetUsage(preset)}`);
    return EXIT_USAGE;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const extra: PresetExtra = {};
  try {
    const report = await runLoadTest(options, {
      signal: controller.signal,
      command: [`npm run ${preset.name} --`, ...argv],
      ...preset.hooks?.(extra),
    });
    process.stdout.write(renderSummaryTable(report));
    process.stdout.write(`\n${preset.name}\n${preset.headline(report, parsed.values, extra).join('\n')}\n`);
    const outDir = parsed.outDir ?? mkdtempSync(join(tmpdir(), `sealpost-${preset.name.replace(':', '-')}-`));
    const { jsonFile, htmlFile } = writeReportFiles(report, { outDir });
    process.stdout.write(`report: ${jsonFile}, ${htmlFile}\n`);
    if (report.endedBy === 'interrupted') return EXIT_INTERRUPTED;
    return report.passed ? 0 : EXIT_FAILED;
  } catch (error) {
    if (error instanceof InterruptedBeforeLoadError) {
      process.stderr.write(`${preset.name}: interrupted before the load started; no report\n`);
      return EXIT_INTERRUPTED;
    }
    process.stderr.write(`${preset.name} failed: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Starts a preset as a script: its exit code becomes the process's. */
export function mainPreset<F extends string>(preset: PresetDefinition<F>): void {
  runPreset(preset, process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${preset.name} failed: ${(error as Error).message}\n`);
      process.exit(EXIT_FAILED);
    },
  );
}

/** Seconds the stages last (the measured load, without the drain). */
export function stagesSeconds(report: LoadReport): number {
  return report.stages.reduce((sum, s) => sum + s.durationSeconds, 0);
}

const ms = (value: number): string => `${value.toFixed(1)} ms`;

/** "p50 3.1 ms  p99 12.0 ms  p99.9 20.3 ms  max 31.0 ms  (n 60,000)" */
export function latencyLine(summary: LatencySummary): string {
  return `p50 ${ms(summary.p50)}  p99 ${ms(summary.p99)}  p99.9 ${ms(summary.p999)}  max ${ms(summary.max)}  (${summary.count} samples)`;
}

/** A service's CPU (mean and max over the stages, % of one core) and RSS (at the end of the stages and max), from report.services. */
export function serviceLine(report: LoadReport, server: string, service: ServiceKind): string {
  const end = stagesSeconds(report);
  const series = report.services.filter((s) => s.server === server && s.service === service && s.t <= end + 0.5);
  if (series.length === 0) return `${server} ${service}: not sampled`;
  const cpu = series.map((s) => s.cpuCores * 100);
  const rss = series.map((s) => s.rssMiB);
  const mean = cpu.reduce((a, b) => a + b, 0) / cpu.length;
  return (
    `${server} ${service}: CPU ${mean.toFixed(0)}% of one core (mean over ${series.length} s of load; max ${Math.max(...cpu).toFixed(0)}%), ` +
    `RSS ${rss[rss.length - 1].toFixed(1)} MiB at the end (max ${Math.max(...rss).toFixed(1)} MiB)`
  );
}

/** The headline lines the relay and federation presets share: rate, latencies, losses. */
export function deliveryLines(report: LoadReport): string[] {
  const seconds = stagesSeconds(report);
  const offered = report.stages.reduce((sum, s) => sum + s.totals.sent, 0);
  // Deliveries while the stages ran (the timeline's seconds before the drain): a backlog delivered in the drain is not a rate achieved.
  const inStages = report.timeline.filter((s) => !s.drain).reduce((sum, s) => sum + s.deliveredPerSecond, 0);
  const inDrain = report.timeline.filter((s) => s.drain).reduce((sum, s) => sum + s.deliveredPerSecond, 0);
  return [
    `offered          ${(offered / Math.max(1, seconds)).toFixed(0)} sends/s for ${seconds} s (${offered} sends)`,
    `achieved         ${(inStages / Math.max(1, seconds)).toFixed(0)} deliveries/s while the load ran (${inStages} delivered then, ${inDrain} in the drain); ` +
      `${report.totals.delivered} of ${report.totals.expectedDeliveries} expected deliveries in all (${report.totals.accepted} of ${report.totals.sent} sends accepted)`,
    `send→accept      ${latencyLine(report.latency.sendToAccept)}`,
    `send→deliver     ${latencyLine(report.latency.sendToDeliver)}`,
    `lost ${report.totals.lost}   duplicates ${report.totals.duplicated}   refused ${JSON.stringify(report.totals.refusedByStatus)}`,
  ];
}
