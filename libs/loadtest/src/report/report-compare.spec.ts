import { compareReports } from './report-compare';
import { createSampleReport } from './testing/sample-report';

const rowOf = (text: string, section: string, figure: string) => {
  const start = text.indexOf(`\n${section}\n`);
  const end = text.indexOf('\n\n', start + 1);
  const lines = text.slice(start, end === -1 ? undefined : end).split('\n');
  const line = lines.find((l) => l.trimStart().startsWith(`${figure}  `));
  if (!line) throw new Error(`no row ${figure} in ${section}`);
  return line.trim().split(/\s{2,}/);
};

describe('compareReports', () => {
  const a = createSampleReport();

  it('marks more lost envelopes WORSE, however few', () => {
    const text = compareReports(a, createSampleReport({ lost: 3 }));
    expect(rowOf(text, 'Totals', 'lost')).toEqual(['lost', '0', '3', '+3', 'new', 'WORSE']);
  });

  it('marks lower latency better and higher latency WORSE, with absolute and relative change', () => {
    const b = createSampleReport();
    b.latency = {
      ...b.latency,
      sendToDeliver: { ...b.latency.sendToDeliver, p99: a.latency.sendToDeliver.p99 / 2, p50: a.latency.sendToDeliver.p50 * 2 },
    };
    const text = compareReports(a, b);
    expect(rowOf(text, 'Latency, whole run', 'send→deliver p99')).toEqual([
      'send→deliver p99',
      '22.7 ms',
      '11.3 ms',
      '-11.3 ms',
      '-50.0 %',
      'better',
    ]);
    expect(rowOf(text, 'Latency, whole run', 'send→deliver p50')).toEqual([
      'send→deliver p50',
      '5.00 ms',
      '10.0 ms',
      '+5.00 ms',
      '+100.0 %',
      'WORSE',
    ]);
  });

  it('marks higher delivery better and calls changes under 1 % noise', () => {
    const b = createSampleReport();
    b.totals = { ...b.totals, delivered: a.totals.delivered * 2 };
    expect(rowOf(compareReports(a, b), 'Totals', 'delivered').at(-1)).toBe('better');
    b.totals = { ...b.totals, delivered: a.totals.delivered + 1 };
    expect(rowOf(compareReports(a, b), 'Totals', 'delivered').at(-1)).toBe('≈');
  });

  it('compares every stage by position, every percentile, and every service', () => {
    const text = compareReports(a, createSampleReport({ seed: 2 }));
    for (const section of ['Stage 1 (30s:1000)', 'Stage 2 (60s:1000)', 'Stage 3 (30s:0)']) {
      for (const figure of [
        'send→accept p50',
        'send→deliver p90',
        'send→deliver p99',
        'send→deliver p99.9',
        'send→deliver max',
        'ack p99',
        'delivered per second',
      ])
        expect(rowOf(text, section, figure)).toHaveLength(6);
    }
    expect(rowOf(text, 'Services', 'beta.example relay CPU max')).toHaveLength(6);
    expect(rowOf(text, 'Services', 'alpha.example gateway RSS mean')).toHaveLength(6);
  });

  it('shows a stage only one run has, with a dash for the other', () => {
    const b = createSampleReport();
    b.stages = b.stages.slice(0, 2);
    expect(rowOf(compareReports(a, b), 'Stage 3 (30s:0 vs none)', 'sent')).toEqual(['sent', '14,500', '-']);
  });
});
