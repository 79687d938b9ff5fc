/**
 * `--name N` pairs for the bench scripts: numeric options by flag, plus flags with their own
 * (string) handlers; anything else, or a negative / non-numeric value, throws `usage`.
 */
export function parseArgs<T extends object>(
  argv: string[],
  options: T,
  names: Record<string, keyof T>,
  usage: string,
  special: Record<string, (value: string) => void> = {},
): T {
  for (let i = 0; i < argv.length; i += 2) {
    const handler = special[argv[i]];
    if (handler && argv[i + 1]) {
      handler(argv[i + 1]);
      continue;
    }
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (!key || !Number.isFinite(value) || value < 0) throw new Error(usage);
    (options as Record<keyof T, unknown>)[key] = value;
  }
  return options;
}
