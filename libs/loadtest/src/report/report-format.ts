/**
 * How every renderer writes a figure, so the terminal summary, the comparison and the HTML report
 * never show one number two ways. Pure functions of a number; no locale-dependent output.
 */

/** 1234567 → "1,234,567"; fractions keep up to `decimals` digits. */
export function formatCount(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return String(value);
  const fixed = Math.abs(value).toFixed(decimals);
  const [whole, fraction] = fixed.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${value < 0 ? '-' : ''}${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}

/** Milliseconds with precision that suits the size: 0.42 ms, 4.2 ms, 42 ms, 4.20 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Math.abs(ms) >= 100) return `${ms.toFixed(0)} ms`;
  if (Math.abs(ms) >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** A rate per second, rounded to what a reader can use. */
export function formatRate(perSecond: number): string {
  return `${formatCount(perSecond, Math.abs(perSecond) < 10 && perSecond !== Math.round(perSecond) ? 1 : 0)}/s`;
}

/**
 * A share already in percent: 99.9 → "99.90 %". Never rounds onto 0 or 100 what is not: three lost
 * in a million shows "0.0003 %", and 99.9997 % delivered never reads "100.00 %".
 */
export function formatPercent(percent: number): string {
  for (let decimals = 2; decimals <= 6; decimals++) {
    const text = percent.toFixed(decimals);
    const roundedOntoEdge = (percent > 0 && Number(text) === 0) || (percent < 100 && Number(text) === 100);
    if (!roundedOntoEdge) return `${text} %`;
  }
  return percent < 1 ? '< 0.000001 %' : '> 99.999999 %';
}

export function formatMiB(mib: number): string {
  return `${mib.toFixed(mib >= 100 ? 0 : 1)} MiB`;
}

export function formatCores(cores: number): string {
  return `${cores.toFixed(2)} cores`;
}

/** Seconds as "45s", "2m", "2m30s", "1h05m". */
export function formatDuration(seconds: number): string {
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  return secs === 0 ? `${minutes}m` : `${minutes}m${String(secs).padStart(2, '0')}s`;
}

/** `numerator / denominator` in percent; 0 when nothing was expected (nothing done is 0 %, not 100 %). */
export function percentOf(numerator: number, denominator: number): number {
  return denominator > 0 ? (numerator / denominator) * 100 : 0;
}

/** The argv as a shell line a reader can paste back, quoting only what needs it. */
export function formatCommandLine(argv: string[]): string {
  const words = argv[0] === 'loadtest' ? ['sealpost', ...argv] : ['sealpost', 'loadtest', ...argv];
  return words.map(quoteShellWord).join(' ');
}

function quoteShellWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** "2026-12-02T16:00:00.000Z" → "2026-12-02 16:00:00 UTC"; anything unparsable as given. */
export function formatTimestamp(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
