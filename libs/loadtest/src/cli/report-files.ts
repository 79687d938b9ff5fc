import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { LoadReport } from '../report/load-report';
import { renderHtmlReport } from './report-renderers';

/** Where a run's reports go: explicit files, or `loadtest-<start time>.json/.html` in `outDir` (default `.`). */
export interface ReportFileTargets {
  jsonFile?: string;
  htmlFile?: string;
  outDir?: string;
}

/** Writes the JSON and the HTML report of a run (folders created); returns their absolute paths. */
export function writeReportFiles(report: LoadReport, where: ReportFileTargets): { jsonFile: string; htmlFile: string } {
  const stamp = report.environment.startedAt.replace(/[:.]/g, '-');
  const jsonFile = resolve(where.jsonFile ?? join(where.outDir ?? '.', `loadtest-${stamp}.json`));
  const htmlFile = resolve(where.htmlFile ?? jsonFile.replace(/\.json$/i, '') + '.html');
  writeReport(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  writeReport(htmlFile, renderHtmlReport(report));
  return { jsonFile, htmlFile };
}

function writeReport(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
