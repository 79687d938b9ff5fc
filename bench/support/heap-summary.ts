/**
 * Sums a V8 heap snapshot's self sizes by (node type, name): for objects the name is the
 * constructor (WebSocket, Socket, DeviceConnection...), for closures the function name.
 * Run as a script to diff two snapshots per connection:
 *
 *   node --max-old-space-size=8192 dist/bench/support/heap-summary.js BEFORE.heapsnapshot AFTER.heapsnapshot N [TOP]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  key: string;
  count: number;
  bytes: number;
}

export function summarize(path: string): Map<string, HeapGroup> {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]];
    const name = data.strings[data.nodes[i + nameAt]];
    // Strings and numbers: group by type only (their "name" is the value itself).
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name.slice(0, 60)}` : type;
    const group = groups.get(key) ?? { key, count: 0, bytes: 0 };
    group.count++;
    group.bytes += data.nodes[i + sizeAt];
    groups.set(key, group);
  }
  return groups;
}

/** Groups that grew from `before` to `after`, largest growth first, per `n` (e.g. per connection). */
export function diffPer(before: Map<string, HeapGroup>, after: Map<string, HeapGroup>, n: number, top: number): string[] {
  const rows = [...after.values()]
    .map((a) => {
      const b = before.get(a.key) ?? { count: 0, bytes: 0 };
      return { key: a.key, count: (a.count - b.count) / n, bytes: (a.bytes - b.bytes) / n };
    })
    .sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  return [
    `heap growth per connection: ${total.toFixed(0)} B in all (self sizes; top ${top}):`,
    ...rows.slice(0, top).map((r) => `  ${r.bytes.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(6)} ×  ${r.key}`),
  ];
}

if (require.main === module) {
  const [beforePath, afterPath, n, top] = process.argv.slice(2);
  if (!beforePath || !afterPath || !Number(n)) {
    process.stderr.write('usage: heap-summary BEFORE AFTER N [TOP]\n');
    process.exit(2);
  }
  for (const line of diffPer(summarize(beforePath), summarize(afterPath), Number(n), Number(top ?? 25))) console.log(line);
}
