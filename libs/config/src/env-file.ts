import { readFileSync } from 'node:fs';

/** Reads `KEY=VALUE` lines (blank lines and `#` comments ignored, optional quotes stripped). */
export function readEnvFile(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((line, index) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) return;
      const match = /^([A-Z_][A-Z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
      if (!match) throw new Error(`${path}:${index + 1}: expected KEY=VALUE`);
      values[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
    });
  return values;
}
