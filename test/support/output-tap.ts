/**
 * Records what this process writes to stdout and stderr (Nest's loggers write there) while it is
 * open, for specs that assert on log lines of in-process services. The lines are kept, not
 * printed; `close()` restores the streams.
 */
export class OutputTap {
  private readonly lines: string[] = [];
  private readonly originals = { out: process.stdout.write, err: process.stderr.write };

  constructor() {
    const record = (chunk: unknown): boolean => {
      this.lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
      return true;
    };
    process.stdout.write = record as typeof process.stdout.write;
    process.stderr.write = record as typeof process.stderr.write;
  }

  matching(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }

  get text(): string {
    return this.lines.join('\n');
  }

  close(): void {
    process.stdout.write = this.originals.out;
    process.stderr.write = this.originals.err;
  }
}
