import { escapeHtml } from './html-escape';

/** A cell given as text (escaped here) or as HTML already escaped by its maker. */
export type Cell = string | { html: string; className?: string; rowSpan?: number };

export interface Column {
  label: string;
  /** Right-aligned with tabular digits. */
  numeric?: boolean;
}

export interface TableRow {
  cells: Cell[];
  className?: string;
}

/**
 * An HTML table whose text is always escaped. A row may hold fewer cells than columns where an
 * earlier row's cell spans down (rowSpan); numeric alignment then follows the columns from the right.
 */
export function htmlTable(columns: Column[], rows: TableRow[], className = 'data'): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.label)}</th>`).join('');
  const body = rows
    .map((row) => {
      const offset = columns.length - row.cells.length;
      const cells = row.cells.map((cell, i) => renderCell(cell, columns[i + offset]?.numeric ?? false)).join('');
      return `<tr${row.className ? ` class="${row.className}"` : ''}>${cells}</tr>`;
    })
    .join('');
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function renderCell(cell: Cell, numeric: boolean): string {
  if (typeof cell === 'string') return `<td${numeric ? ' class="num"' : ''}>${escapeHtml(cell)}</td>`;
  const classes = [numeric ? 'num' : '', cell.className ?? ''].filter(Boolean).join(' ');
  return `<td${classes ? ` class="${classes}"` : ''}${cell.rowSpan ? ` rowspan="${cell.rowSpan}"` : ''}>${cell.html}</td>`;
}

/** Key–value pairs as a two-column table (environment, connect figures). */
export function definitionTable(pairs: [string, string][]): string {
  return `<table class="pairs"><tbody>${pairs.map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</tbody></table>`;
}
