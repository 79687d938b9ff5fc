import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryTally } from './delivery-audit';

/** One fault's outcome: the audit, the recovery time (null: not within the bound) and what else went wrong. */
export interface FaultRow extends DeliveryTally {
  fault: string;
  recoveryMs: number | null;
  /** Service processes that ended on their own during the fault (crashes). */
  crashes: string[];
  /** Failed send attempts by reason (each was retried). */
  failedAttempts: Record<string, number>;
  note: string;
}

/** Where the table is written (next to the suite; ignored by git). */
export const FAULT_TABLE_FILE = join(__dirname, '..', 'output', 'faults.md');

const COLUMNS: [string, (r: FaultRow) => string][] = [
  ['fault', (r) => r.fault],
  ['accepted', (r) => String(r.accepted)],
  ['delivered', (r) => String(r.delivered)],
  ['lost', (r) => String(r.lost)],
  ['dup by id', (r) => String(r.duplicatesById)],
  ['dup by seq', (r) => String(r.duplicatesBySeq)],
  ['out of order', (r) => String(r.outOfOrder)],
  ['redelivered', (r) => String(r.redelivered)],
  ['recovery', (r) => (r.recoveryMs === null ? 'NOT RECOVERED' : `${(r.recoveryMs / 1000).toFixed(1)} s`)],
  [
    'failed attempts',
    (r) =>
      Object.entries(r.failedAttempts)
        .map(([why, n]) => `${n}× ${why}`)
        .join('; ') || '0',
  ],
  ['crashes / notes', (r) => [...r.crashes.map((c) => `CRASH ${c}`), r.note].filter(Boolean).join('; ')],
];

/** The outcome table as Markdown. */
export function formatFaultTable(rows: FaultRow[], recoveryBoundMs: number): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '/')).join(' | ')} |`;
  return [
    `Faults suite, ${new Date().toISOString()} — recovery bound ${recoveryBoundMs / 1000} s after each fault ends`,
    '',
    line(COLUMNS.map(([name]) => name)),
    line(COLUMNS.map(() => '---')),
    ...rows.map((r) => line(COLUMNS.map(([, cell]) => cell(r)))),
    '',
  ].join('\n');
}

/** Writes the table to FAULT_TABLE_FILE and returns it. */
export function writeFaultTable(rows: FaultRow[], recoveryBoundMs: number): string {
  const table = formatFaultTable(rows, recoveryBoundMs);
  mkdirSync(join(FAULT_TABLE_FILE, '..'), { recursive: true });
  writeFileSync(FAULT_TABLE_FILE, table);
  return table;
}
