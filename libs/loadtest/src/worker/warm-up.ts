import { encodeSendKey } from '../schedule/send-key';
import type { PoolEntry } from './sealed-pool';

/** The run tag warm-up sends carry: never the run's own, so their arrivals are told apart from the measured sends. */
export function warmUpTag(runTag: number): number {
  return (runTag % 1023) + 1;
}

/**
 * Unmeasured sends before the clock: `sends` pooled entries in turn, `concurrency` at a time
 * (closed loop), each with a warm-up key. Resolves with how many were accepted and the
 * deliveries they owe, so the coordinator can wait for them to arrive before t0.
 */
export async function warmUp(args: {
  sends: number;
  concurrency: number;
  entries: PoolEntry[];
  runTag: number;
  worker: number;
  send: (entry: PoolEntry, timestamp: number) => Promise<number>;
}): Promise<{ accepted: number; expected: number; refused: number }> {
  const tag = warmUpTag(args.runTag);
  const out = { accepted: 0, expected: 0, refused: 0 };
  let next = 0;
  const lane = async () => {
    while (next < args.sends) {
      const k = next++;
      const entry = args.entries[k % args.entries.length];
      const status = await args.send(entry, encodeSendKey(tag, args.worker, k));
      if (status >= 200 && status < 300) {
        out.accepted++;
        out.expected += entry.devices;
      } else out.refused++;
    }
  };
  if (args.entries.length > 0) await Promise.all(Array.from({ length: Math.min(args.concurrency, args.sends) }, lane));
  return out;
}
