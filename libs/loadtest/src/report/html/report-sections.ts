import type { LoadReport } from '../load-report';
import {
  formatCommandLine,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  formatRate,
  formatTimestamp,
  percentOf,
} from '../report-format';
import { deliveredPerSecond, loadSeconds, refusedTotal, runPassed } from '../report-figures';
import { formatThresholdActual } from '../threshold.evaluator';
import { escapeHtml } from './html-escape';
import { definitionTable, htmlTable } from './html-table';

/** The report's header (verdict and what went wrong, loudly), its key figures, and how it was produced. */

export function renderVerdictHeader(report: LoadReport): string {
  const { totals, environment } = report;
  const failed = report.thresholds.filter((t) => !t.passed);
  const alerts: string[] = [];
  if (totals.lost > 0)
    alerts.push(
      `<div class="alert alert-lost"><strong>LOST: ${formatCount(totals.lost)} envelope${totals.lost === 1 ? '' : 's'}</strong> ` +
        `accepted by a homeserver and never delivered (${formatPercent(percentOf(totals.lost, totals.expectedDeliveries))} of expected deliveries).</div>`,
    );
  if (failed.length > 0)
    alerts.push(
      `<div class="alert alert-fail"><strong>${failed.length} of ${report.thresholds.length} thresholds failed:</strong> ` +
        failed.map((t) => `<code>${escapeHtml(t.expression)}</code> (actual ${escapeHtml(formatThresholdActual(t))})`).join(', ') +
        '</div>',
    );
  if (report.endedBy !== 'completed')
    alerts.push(
      `<div class="alert alert-warn"><strong>Ended early (${escapeHtml(report.endedBy)}):</strong> the figures cover only what ran.</div>`,
    );
  if (report.error) alerts.push(`<div class="alert alert-fail"><strong>Error:</strong> ${escapeHtml(report.error)}</div>`);
  const passed = runPassed(report);
  return (
    `<header class="top ${passed ? 'top-pass' : 'top-fail'}"><div><h1>Sealpost load report</h1>` +
    `<p class="subtitle">${escapeHtml(formatTimestamp(environment.startedAt))} → ${escapeHtml(formatTimestamp(environment.endedAt))} · ` +
    `${escapeHtml(formatDuration(loadSeconds(report)))} of load · ` +
    `${escapeHtml(report.targets.map((t) => t.serverName).join(', ') || 'no targets')}</p></div>` +
    `<div class="badge">${passed ? 'PASSED' : 'FAILED'}</div></header>${alerts.join('')}`
  );
}

export function renderKeyFigures(report: LoadReport): string {
  const { totals, latency } = report;
  const ms = (count: number, value: number) => (count > 0 ? formatMs(value) : '–');
  const cards: [string, string, string, string?][] = [
    ['Delivered per second', formatRate(deliveredPerSecond(report)), 'over the run'],
    ['Sent', formatCount(totals.sent), `over ${formatDuration(loadSeconds(report))}`],
    ['Accepted', formatCount(totals.accepted), `${formatPercent(percentOf(totals.accepted, totals.sent))} of sent`],
    ['Delivered', formatCount(totals.delivered), `${formatPercent(percentOf(totals.delivered, totals.expectedDeliveries))} of expected`],
    ['Lost', formatCount(totals.lost), 'accepted, never delivered', totals.lost > 0 ? 'card-bad' : 'card-good'],
    ['Duplicated', formatCount(totals.duplicated), 'received twice', totals.duplicated > 0 ? 'card-warn' : undefined],
    ['Refused', formatCount(refusedTotal(totals)), 'non-2xx or no answer', refusedTotal(totals) > 0 ? 'card-warn' : undefined],
    ['Send → deliver p50', ms(latency.sendToDeliver.count, latency.sendToDeliver.p50), 'from intended send time'],
    [
      'Send → deliver p99',
      ms(latency.sendToDeliver.count, latency.sendToDeliver.p99),
      `p99.9 ${ms(latency.sendToDeliver.count, latency.sendToDeliver.p999)}`,
    ],
    [
      'Send → accept p99',
      ms(latency.sendToAccept.count, latency.sendToAccept.p99),
      `p50 ${ms(latency.sendToAccept.count, latency.sendToAccept.p50)}`,
    ],
  ];
  return `<section class="cards">${cards
    .map(
      ([label, value, note, tone]) =>
        `<div class="card ${tone ?? ''}"><div class="card-label">${escapeHtml(label)}</div><div class="card-value">${escapeHtml(value)}</div><div class="card-note">${escapeHtml(note)}</div></div>`,
    )
    .join('')}</section>`;
}

export function renderRunDetails(report: LoadReport): string {
  const env = report.environment;
  const environment = definitionTable([
    ['Started', env.startedAt],
    ['Ended', `${env.endedAt} (${report.endedBy})`],
    ['Sealpost', `${env.sealpostVersion}${env.gitCommit ? ` (${env.gitCommit})` : ''}`],
    ['Node.js', env.node],
    ['Platform', env.platform],
    ['CPUs', `${env.cpus} × ${env.cpuModel}`],
    ['Memory', `${formatCount(env.totalMemoryMiB)} MiB`],
  ]);
  return (
    `<h3>Command</h3><pre class="command"><code>${escapeHtml(formatCommandLine(report.command))}</code></pre>` +
    `<div class="two-col"><div><h3>Environment of the load tester</h3>${environment}</div>` +
    `<div><h3>Resolved options</h3><pre class="options"><code>${escapeHtml(JSON.stringify(report.options, null, 2))}</code></pre></div></div>`
  );
}

export function renderTargets(report: LoadReport): string {
  const c = report.connect;
  const targets =
    report.targets.length === 0
      ? '<p class="no-data">No targets.</p>'
      : htmlTable(
          [
            { label: 'Homeserver' },
            { label: 'Discovery URL' },
            { label: 'Directory' },
            { label: 'Relay' },
            { label: 'Accounts', numeric: true },
            { label: 'Devices', numeric: true },
          ],
          report.targets.map((t) => ({
            cells: [t.serverName, t.discoveryUrl, t.directoryUrl, t.relayUrl, formatCount(t.accounts), formatCount(t.devices)],
          })),
        );
  const failures = Object.entries(c.failuresByReason)
    .map(([reason, n]) => `${reason}: ${formatCount(n)}`)
    .join(', ');
  const connect = definitionTable([
    ['Connected', `${formatCount(c.connected)} of ${formatCount(c.attempted)} sockets`],
    ['Failed', c.failed > 0 ? `${formatCount(c.failed)} (${failures})` : '0'],
    ['Took', `${formatMs(c.durationMs)} (${formatRate(c.ratePerSecond)})`],
    ['Workers', `${c.workers}${c.sourceAddresses.length > 0 ? ` bound to ${c.sourceAddresses.join(', ')}` : ''}`],
  ]);
  return `${targets}<h3>Connecting the devices</h3>${connect}`;
}
