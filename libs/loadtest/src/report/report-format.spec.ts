import { formatCommandLine, formatCount, formatDuration, formatMs, formatPercent, formatTimestamp } from './report-format';

describe('report-format', () => {
  it('never rounds a share onto 0 % or 100 % that is not', () => {
    expect(formatPercent(99.9)).toBe('99.90 %');
    expect(formatPercent(100)).toBe('100.00 %');
    expect(formatPercent(0)).toBe('0.00 %');
    expect(formatPercent(99.9997)).toBe('99.9997 %');
    expect(formatPercent((3 / 1_000_000) * 100)).toBe('0.0003 %');
  });

  it('writes counts grouped, milliseconds with a precision that suits their size, durations short', () => {
    expect([formatCount(1234567), formatCount(-1234.5, 1), formatCount(0)]).toEqual(['1,234,567', '-1,234.5', '0']);
    expect([formatMs(0.424), formatMs(4.24), formatMs(42.4), formatMs(424), formatMs(4240)]).toEqual([
      '0.42 ms',
      '4.24 ms',
      '42.4 ms',
      '424 ms',
      '4.24 s',
    ]);
    expect([formatDuration(45), formatDuration(120), formatDuration(150), formatDuration(3900), formatDuration(-30)]).toEqual([
      '45s',
      '2m',
      '2m30s',
      '1h05m',
      '-30s',
    ]);
    expect(formatTimestamp('2026-12-02T16:00:00.000Z')).toBe('2026-12-02 16:00:00 UTC');
    expect(formatTimestamp('not a date')).toBe('not a date');
  });

  it('writes the command as a shell line that pastes back, quoting what needs it', () => {
    expect(formatCommandLine(['--server', 'https://a.example', '--threshold', 'p99<50ms', '--note', "it's"])).toBe(
      `sealpost loadtest --server https://a.example --threshold 'p99<50ms' --note 'it'\\''s'`,
    );
    expect(formatCommandLine(['loadtest', '--spawn', '2'])).toBe('sealpost loadtest --spawn 2');
  });
});
