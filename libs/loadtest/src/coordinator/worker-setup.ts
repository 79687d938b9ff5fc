import type { LoadPopulation, StoreSnapshot } from '../accounts/load-accounts.types';
import type { LoadOptions } from '../options/load-options';
import type { ConnectReport } from '../report/load-report';
import { ResolvedTarget, isIpv4LoopbackUrl } from '../targets/resolved-target';
import type { WorkerSecond } from '../worker/ipc-messages';
import { WorkerProcess } from './worker-processes';

/** Sockets per loopback source address: below the ~28,000 ephemeral ports one (source, destination) pair has. */
const SOCKETS_PER_ADDRESS = 20_000;
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * Worker w's loopback source addresses, 127.0.<w+1>.1 and on (one per 20,000 sockets): used when
 * a target is on loopback, where one (source, destination) pair's ephemeral ports would bind first.
 */
export function sourceAddressesOf(worker: number, sockets: number): string[] {
  const count = Math.max(1, Math.ceil(sockets / SOCKETS_PER_ADDRESS));
  return Array.from({ length: count }, (_, k) => `127.0.${worker + 1}.${k + 1}`);
}

/**
 * Forks the workers, hands each its devices (their client state only to their own worker), has
 * them all open their sockets at once (the connect figures are the run's), then seal their pools.
 */
export async function setUpWorkers(args: {
  options: LoadOptions;
  targets: ResolvedTarget[];
  population: LoadPopulation;
  stores: Map<number, StoreSnapshot>;
  runTag: number;
  log: (line: string) => void;
}): Promise<{
  workers: WorkerProcess[];
  connect: ConnectReport;
  route: (handler: (worker: number, second: WorkerSecond) => void) => void;
}> {
  const { options } = args;
  let onSecond: (worker: number, second: WorkerSecond) => void = () => undefined;
  const workers = Array.from(
    { length: options.workers },
    (_, w) =>
      new WorkerProcess(w, (index, message) => {
        if (message.type === 'second') onSecond(index, message.second);
      }),
  );
  try {
    const connect = await prepareWorkers(workers, args);
    return {
      workers,
      connect,
      route: (handler) => {
        onSecond = handler;
      },
    };
  } catch (error) {
    // Nothing forked here outlives a failed set-up.
    await Promise.all(workers.map((w) => w.stop()));
    throw error;
  }
}

/** Init, connect and seal on every worker; the run's connect figures. */
async function prepareWorkers(workers: WorkerProcess[], args: Parameters<typeof setUpWorkers>[0]): Promise<ConnectReport> {
  const { options, targets, population } = args;
  const loopback = targets.some((t) => isIpv4LoopbackUrl(t.relayUrl));
  await Promise.all(
    workers.map((worker, w) => {
      const own = population.devices.filter((d) => d.worker === w);
      return worker.request(
        {
          type: 'init',
          worker: w,
          workers: workers.length,
          runTag: args.runTag,
          options,
          targets: targets.map((t) => ({ serverName: t.serverName, discoveryUrl: t.discoveryUrl, relayUrl: t.relayUrl })),
          population,
          stores: own.map((d) => [d.index, args.stores.get(d.index)!]),
          sourceAddresses: loopback ? sourceAddressesOf(w, own.length) : [],
        },
        'ready',
      );
    }),
  );
  args.log(`connecting ${population.devices.length} device sockets from ${workers.length} worker(s)`);
  const started = nowMs();
  const figures = await Promise.all(workers.map((w) => w.request({ type: 'connect' }, 'connected')));
  const connect: ConnectReport = {
    attempted: 0,
    connected: 0,
    failed: 0,
    failuresByReason: {},
    durationMs: Math.round(nowMs() - started),
    ratePerSecond: 0,
    workers: workers.length,
    sourceAddresses: [],
  };
  for (const { figures: f } of figures) {
    connect.attempted += f.attempted;
    connect.connected += f.connected;
    connect.failed += f.failed;
    for (const [reason, n] of Object.entries(f.failuresByReason))
      connect.failuresByReason[reason] = (connect.failuresByReason[reason] ?? 0) + n;
    connect.sourceAddresses.push(...f.sourceAddresses);
  }
  connect.ratePerSecond = Math.round((connect.connected / Math.max(1, connect.durationMs)) * 1000 * 10) / 10;
  args.log(
    `connected ${connect.connected} of ${connect.attempted} sockets in ${(connect.durationMs / 1000).toFixed(1)} s (${connect.ratePerSecond}/s)` +
      (connect.failed > 0 ? `; failed ${JSON.stringify(connect.failuresByReason)}` : ''),
  );
  args.log(`sealing envelope pools with the client SDK${options.verify ? ' (--verify: one per send)' : ''}`);
  const sealed = await Promise.all(workers.map((w) => w.request({ type: 'seal' }, 'sealed')));
  const envelopes = sealed.reduce((sum, s) => sum + s.envelopes, 0);
  const meanBody = Math.round(sealed.reduce((sum, s) => sum + s.bodyBytes, 0) / Math.max(1, envelopes));
  args.log(
    `sealed ${envelopes} messages in ${(Math.max(...sealed.map((s) => s.ms)) / 1000).toFixed(1)} s (request bodies ${meanBody} bytes on average)`,
  );
  return connect;
}
