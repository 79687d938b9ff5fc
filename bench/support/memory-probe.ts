/**
 * Preloaded (`node -r`) into a service under a memory bench. On SIGWINCH (not SIGUSR2: Nest's
 * enableShutdownHooks() shuts the service down on SIGUSR2) it reads one command
 * from `${MEMORY_PROBE_FILE}.cmd` and appends one JSON line to MEMORY_PROBE_FILE:
 *
 * - `stats`: process.memoryUsage() and V8 heap (space) statistics;
 * - `gc-stats`: the same after a full GC (needs the service started with --expose-gc);
 * - `snapshot <path>`: writes a V8 heap snapshot to <path> (after a full GC, if exposed), then the stats.
 *
 * The service's own code is untouched; this only observes it.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';

const file = process.env.MEMORY_PROBE_FILE;

function stats(command: string): Record<string, unknown> {
  const memory = process.memoryUsage();
  const heap = getHeapStatistics();
  return {
    command,
    at: Date.now(),
    rss: memory.rss,
    heapTotal: memory.heapTotal,
    heapUsed: memory.heapUsed,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    mallocedMemory: heap.malloced_memory,
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, size: s.space_size }])),
    handles: (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.().length ?? null,
  };
}

if (file) {
  process.on('SIGWINCH', () => {
    let command = 'stats';
    try {
      command = readFileSync(`${file}.cmd`, 'utf8').trim() || 'stats';
    } catch {
      // no command file: plain stats
    }
    const gc = (globalThis as { gc?: () => void }).gc;
    let result: Record<string, unknown>;
    if (command === 'gc-stats') {
      gc?.();
      result = { ...stats(command), gcRan: Boolean(gc) };
    } else if (command.startsWith('snapshot ')) {
      gc?.();
      const path = writeHeapSnapshot(command.slice('snapshot '.length));
      result = { ...stats(command), snapshot: path, gcRan: Boolean(gc) };
    } else {
      result = stats(command);
    }
    appendFileSync(file, `${JSON.stringify(result)}\n`);
  });
}
