/**
 * Reads a service's configuration from the environment exactly once, collecting every problem
 * before failing so an operator sees the whole list at start-up.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export class EnvReader {
  private readonly problems: string[] = [];
  private readonly secretNames = new Set<string>();

  constructor(private readonly env: Env) {}

  string(name: string, fallback?: string, opts: { secret?: boolean; pattern?: RegExp; hint?: string } = {}): string {
    if (opts.secret) this.secretNames.add(name);
    const raw = this.env[name];
    const value = raw === undefined || raw === '' ? fallback : raw;
    if (value === undefined) {
      this.problems.push(`${name} is required${opts.hint ? ` (${opts.hint})` : ''}`);
      return '';
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.problems.push(`${name} must match ${opts.hint ?? opts.pattern.source}${opts.secret ? '' : `, got "${value}"`}`);
    }
    return value;
  }

  optionalString(name: string, opts: { secret?: boolean } = {}): string | undefined {
    if (opts.secret) this.secretNames.add(name);
    const raw = this.env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problems.push(`${name} must be a number in ${min}..${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    this.problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  }

  url(name: string, fallback: string, protocols: string[], opts: { secret?: boolean } = {}): string {
    const value = this.string(name, fallback, opts);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must be a ${protocols.join(' or ')} URL`);
      }
    } catch {
      this.problems.push(`${name} must be a URL${opts.secret ? '' : `, got "${value}"`}`);
    }
    return value;
  }

  /** Records a problem found by a caller's own parsing. */
  report(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws a ConfigError listing every problem seen so far. */
  finish<T>(config: T): T {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return config;
  }

  get secrets(): ReadonlySet<string> {
    return this.secretNames;
  }
}

/** Replaces the password of a URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
