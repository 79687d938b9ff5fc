import type { LoadReport } from '../load-report';
import { runPassed } from '../report-figures';
import { escapeHtml, jsonForScriptElement } from './html-escape';
import { renderHistogram, renderLatencyChart, renderServiceCharts, renderThroughputChart } from './report-charts';
import { renderKeyFigures, renderRunDetails, renderTargets, renderVerdictHeader } from './report-sections';
import { REPORT_CSS } from './report-styles';
import { renderStageCountTable, renderStageLatencyTable, renderThresholdTable, renderTotalsTable } from './report-tables';

/** The id of the element holding the report's JSON: `JSON.parse(document.getElementById(id).textContent)`. */
export const REPORT_DATA_ELEMENT_ID = 'sealpost-load-report';

/**
 * The HTML report: one self-contained file that opens offline. Charts are inline SVG drawn here,
 * styles are inline, the page runs no script, and its Content-Security-Policy forbids fetching
 * anything, so a report can never reach out when opened. The report JSON rides along in a
 * `<script type="application/json" id="sealpost-load-report">` element for tools to read back.
 */
export function renderHtmlReport(report: LoadReport): string {
  const title = `Sealpost load report · ${runPassed(report) ? 'passed' : 'FAILED'} · ${report.environment.startedAt}`;
  const panel = (id: string, heading: string, body: string) =>
    `<section class="panel" id="${id}"><h2>${escapeHtml(heading)}</h2>${body}</section>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head><body><main>',
    renderVerdictHeader(report),
    renderKeyFigures(report),
    panel('thresholds', 'Thresholds', renderThresholdTable(report)),
    panel(
      'charts',
      'Over time',
      `<div class="charts">${renderThroughputChart(report)}${renderLatencyChart(report)}${renderHistogram(report)}${renderServiceCharts(report)}</div>`,
    ),
    panel(
      'stages',
      'Stages',
      `<div class="table-scroll">${renderStageCountTable(report)}</div><h3>Latency per stage</h3><div class="table-scroll">${renderStageLatencyTable(report)}</div>`,
    ),
    panel('totals', 'Totals', renderTotalsTable(report)),
    panel('targets', 'Targets', renderTargets(report)),
    panel('run', 'How this report was produced', renderRunDetails(report)),
    `<footer>${escapeHtml(report.tool)} · report format v${report.version} · the data of this report is embedded in this file (element #${REPORT_DATA_ELEMENT_ID})</footer>`,
    '</main>',
    `<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">${jsonForScriptElement(report)}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The report embedded in an HTML report, parsed back (for tools and specs; no DOM needed). */
export function readEmbeddedReport(html: string): LoadReport {
  const open = `<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">`;
  const start = html.indexOf(open);
  if (start === -1) throw new Error(`no element #${REPORT_DATA_ELEMENT_ID} in this HTML`);
  const end = html.indexOf('</script>', start + open.length);
  return JSON.parse(html.slice(start + open.length, end)) as LoadReport;
}
