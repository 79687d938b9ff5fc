/**
 * Aligned plain-text tables for the terminal: every column as wide as its widest cell, text left,
 * figures right. Widths count characters, so ANSI colour is applied after alignment (see `paint`).
 */
export type Align = 'left' | 'right';

export interface TextColumn {
  header: string;
  align?: Align;
}

export function renderTextTable(columns: TextColumn[], rows: string[][], indent = '  '): string[] {
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((cell, i) => ((columns[i].align ?? 'right') === 'left' ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map((row) => line(columns.map((_, i) => row[i] ?? ''))),
  ];
}

export type Paint = 'red' | 'green' | 'yellow' | 'bold';
const ANSI: Record<Paint, string> = { red: '\x1b[1;31m', green: '\x1b[32m', yellow: '\x1b[33m', bold: '\x1b[1m' };

/** Wraps `text` in an ANSI colour when `color` is on; plain text otherwise. */
export function paint(text: string, style: Paint, color: boolean): string {
  return color ? `${ANSI[style]}${text}\x1b[0m` : text;
}
