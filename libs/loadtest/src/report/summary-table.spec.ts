import { renderSummaryTable } from './summary-table';
import { createEmptyReport, createSampleReport } from './testing/sample-report';

const ANSI = /\x1b\[/;

describe('renderSummaryTable', () => {
  it('lists every stage with its counts and latencies, and the whole run', () => {
    const summary = renderSummaryTable(createSampleReport());
    for (const label of ['1 30s:1000', '2 60s:1000', '3 30s:0']) expect(summary.split(label).length - 1).toBe(2);
    expect(summary).toMatch(/^\s+2 60s:1000\s+1,000\s+60,000\s+/m);
    expect(summary).toMatch(/^\s+all\s+send→accept/m);
    expect(summary).toContain('sealpost loadtest: PASSED');
    expect(summary).toContain("--threshold 'p99<50ms'");
  });

  it('aligns the columns of a table', () => {
    const lines = renderSummaryTable(createSampleReport()).split('\n');
    const header = lines.findIndex((line) => line.trimStart().startsWith('stage ') && line.includes('delivered/s'));
    const rows = lines.slice(header, header + 6);
    const ends = rows.map((line) => line.length);
    expect(new Set(ends).size).toBe(1);
  });

  it('shouts LOST when anything accepted was not delivered, and only then', () => {
    const lossy = createSampleReport({ lost: 7 });
    expect(renderSummaryTable(lossy)).toContain('!!! LOST: 7 accepted envelopes were never delivered !!!');
    expect(renderSummaryTable(createSampleReport())).not.toContain('LOST');
  });

  it('marks each threshold PASS or FAIL with its actual value and unit', () => {
    const report = createSampleReport();
    report.thresholds = [
      { expression: 'p99<50ms', actual: 22.7, passed: true },
      { expression: 'delivered>=99.999%', actual: 99.99, passed: false },
    ];
    const summary = renderSummaryTable(report);
    expect(summary).toMatch(/PASS {2}p99<50ms +actual 22\.7 ms/);
    expect(summary).toMatch(/FAIL {2}delivered>=99\.999% {2}actual 99\.99 %/);
  });

  it('never says PASSED for a run that lost anything, whatever its passed flag', () => {
    const lossy = createSampleReport({ lost: 1 });
    lossy.passed = true;
    expect(renderSummaryTable(lossy)).toContain('sealpost loadtest: FAILED');
  });

  it('colours only when asked', () => {
    const report = createSampleReport({ lost: 1 });
    expect(renderSummaryTable(report)).not.toMatch(ANSI);
    expect(renderSummaryTable(report, { color: true })).toMatch(ANSI);
    expect(renderSummaryTable(report, { color: true })).toContain('\x1b[1;31m!!! LOST');
  });

  it('summarises a run that sent nothing and was interrupted', () => {
    const summary = renderSummaryTable(createEmptyReport());
    expect(summary).toContain('ENDED EARLY (interrupted)');
    expect(summary).toMatch(/^\s+all\s+send→accept\s+-\s+-/m);
    expect(summary).toContain('0s of load');
  });
});
