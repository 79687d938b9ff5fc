import { readFileSync } from 'node:fs';
import { LoadUsageError } from '../options/load-args-values';
import { parseLoadArgs } from '../options/parse-load-args';
import type { LoadReport } from '../report/load-report';
import { InterruptedBeforeLoadError, runLoadTest } from '../run-load-test';
import { LOADTEST_HELP, LOADTEST_USAGE_LINE } from './loadtest-usage';
import { writeReportFiles } from './report-files';
import { Threshold, compareReports, evaluateThresholds, parseThreshold, renderSummaryTable } from './report-renderers';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/**
 * `sealpost loadtest …` / `npm run loadtest -- …`: parses, runs, writes the reports, prints the
 * summary; resolves with the exit code. Nothing thrown escapes as a stack trace.
 */
export async function runLoadtestCli(argv: string[]): Promise<number> {
  let command;
  let thresholds: Threshold[];
  try {
    command = parseLoadArgs(argv);
    if (command.kind === 'run') thresholds = command.options.thresholds.map((t) => parseThreshold(t));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${LOADTEST_USAGE_LINE}\n`);
    return EXIT_USAGE;
  }
  if (command.kind === 'help') {
    process.stdout.write(LOADTEST_HELP);
    return 0;
  }
  if (command.kind === 'compare') return compare(command.files);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (signals++ === 0) controller.abort();
    else process.stderr.write('loadtest: still stopping (workers, sockets, spawned homeservers); the report follows\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await runLoadTest(command.options, { signal: controller.signal, command: argv });
    report.thresholds = evaluateThresholds(thresholds!, report);
    report.passed = report.passed && report.thresholds.every((t) => t.passed);
    // The summary first: a report file that cannot be written must not hide what the run measured.
    process.stdout.write(renderSummaryTable(report));
    const { jsonFile, htmlFile } = writeReportFiles(report, command);
    process.stderr.write(`report: ${jsonFile}, ${htmlFile}\n`);
    if (report.totals.lost > 0) process.stderr.write(`LOST: ${report.totals.lost} accepted envelopes were never delivered\n`);
    if (report.endedBy === 'interrupted') return EXIT_INTERRUPTED;
    return report.passed ? 0 : EXIT_FAILED;
  } catch (error) {
    if (error instanceof InterruptedBeforeLoadError) {
      process.stderr.write('loadtest: interrupted before the load started; no report\n');
      return EXIT_INTERRUPTED;
    }
    process.stderr.write(`error: ${describe(error)}\n`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function compare([a, b]: [string, string]): number {
  try {
    process.stdout.write(compareReports(readReport(a), readReport(b)));
    return 0;
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${LOADTEST_USAGE_LINE}\n`);
    return EXIT_USAGE;
  }
}

function readReport(path: string): LoadReport {
  let report: Partial<LoadReport>;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as Partial<LoadReport>;
  } catch (error) {
    throw new LoadUsageError(`${path}: ${(error as { code?: string }).code === 'ENOENT' ? 'no such file' : 'not JSON'}`);
  }
  if (report.tool !== 'sealpost loadtest' || typeof report.version !== 'number')
    throw new LoadUsageError(`${path}: not a sealpost loadtest report`);
  return report as LoadReport;
}

/** The error's message, with the network code for an unreachable target; never a stack. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown failure';
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (error.message === 'fetch failed' && typeof cause?.code === 'string') return `unreachable (${cause.code})`;
  return error.message;
}
