/**
 * `npm run bench:connections`: a preset of the load engine (`sealpost loadtest`, docs/LOADTEST.md).
 * One spawned homeserver; N devices open their authenticated WebSockets to its ONE relay (the
 * engine's connect step: each socket counts once the relay said queue-empty), then hold them idle
 * through one stage at rate 0. Prints the engine's summary table, then the connect rate and
 * failures, the relay's RSS before the sockets opened (read from its /metrics once the accounts
 * exist) and at the end of the idle stage (the engine's service samples), and KB RSS per socket.
 *
 *   npm run bench:connections -- [--connections 15000] [--devices-per-account 1] [--open-concurrency 500]
 *                                [--idle 10] [--ping-interval 300] [--workers 1] [--out DIR]
 */
import { LoadReport, defaultLoadOptions, metricValue } from '@sealpost/loadtest';
import { PresetDefinition, PresetExtra, PresetUsageError, mainPreset, serviceLine, stagesSeconds } from './support/loadtest-preset';

type ConnectionsFlag = 'connections' | 'devices-per-account' | 'open-concurrency' | 'idle' | 'ping-interval' | 'workers';

/** The engine's limit on devices per account. */
const MAX_DEVICES_PER_ACCOUNT = 32;

export const CONNECTIONS_PRESET: PresetDefinition<ConnectionsFlag> = {
  name: 'bench:connections',
  about:
    'One spawned homeserver (sealpost loadtest --spawn 1 --stage Ns:0): N authenticated device sockets opened to one\n' +
    'relay and held idle for --idle seconds with no sends; the engine summary, then connect rate and failures, relay RSS\n' +
    'before and after connecting, KB RSS per socket.',
  flags: {
    connections: { default: 15000, min: 1, help: 'device sockets to open (accounts × devices per account)' },
    'devices-per-account': { default: 1, min: 1, help: `devices linked to each account (at most ${MAX_DEVICES_PER_ACCOUNT})` },
    'open-concurrency': { default: 500, min: 1, help: 'WebSocket upgrades in flight per worker while connecting' },
    idle: { default: 10, min: 1, help: 'seconds the sockets are held idle (a stage at rate 0); RSS "after" is read at its end' },
    'ping-interval': { default: 300, min: 1, help: "the relay's WS_PING_INTERVAL_SECONDS (sweeps kept out of the idle window)" },
    workers: { default: 1, min: 1, help: 'worker processes holding the sockets' },
  },
  dropped:
    '--setup (the engine registers the accounts and links --devices-per-account devices), --settle (use a longer --idle), ' +
    '--heap-snapshot (the relay no longer runs with the memory probe; take snapshots with node --inspect on a relay you start, ' +
    'then npm run loadtest -- --server).',
  options: (v) => {
    const perAccount = v['devices-per-account'];
    if (perAccount > MAX_DEVICES_PER_ACCOUNT) throw new PresetUsageError(`--devices-per-account is at most ${MAX_DEVICES_PER_ACCOUNT}`);
    // Read by the spawned services (they take this process's environment).
    process.env.WS_PING_INTERVAL_SECONDS = String(v['ping-interval']);
    return defaultLoadOptions({
      spawn: 1,
      accounts: Math.ceil(v.connections / perAccount),
      devicesPerAccount: perAccount,
      workers: v.workers,
      stages: [{ label: `${v.idle}s:0`, durationSeconds: v.idle, rateTo: 0 }],
      startRate: 0,
      connectConcurrency: v['open-concurrency'],
      drainSeconds: 0,
    });
  },
  hooks: (extra) => ({
    beforeConnect: async (targets) => {
      const relay = targets[0].metrics.find((m) => m.service === 'relay');
      if (!relay) return;
      const bytes = metricValue(await (await fetch(relay.url)).text(), 'process_resident_memory_bytes');
      extra.rssBeforeMiB = bytes === undefined ? undefined : bytes / 1048576;
    },
  }),
  headline: (report, _values, extra) => connectionLines(report, extra),
};

function connectionLines(report: LoadReport, extra: PresetExtra): string[] {
  const { connect } = report;
  const server = report.targets[0].serverName;
  const end = stagesSeconds(report);
  const relay = report.services.filter((s) => s.server === server && s.service === 'relay' && s.t <= end + 0.5);
  const after = relay.length > 0 ? relay[relay.length - 1].rssMiB : undefined;
  const before = extra.rssBeforeMiB;
  const perSocket = before !== undefined && after !== undefined ? ((after - before) * 1024) / Math.max(1, connect.connected) : undefined;
  const failures = connect.failed > 0 ? ` ${JSON.stringify(connect.failuresByReason)}` : '';
  const drops = connect.dropsByCloseCode ? `; closed during the idle stage ${JSON.stringify(connect.dropsByCloseCode)}` : '';
  return [
    `connections open   ${connect.connected} of ${connect.attempted}; failed to open ${connect.failed}${failures}${drops}`,
    `opening            ${(connect.durationMs / 1000).toFixed(1)} s (${connect.ratePerSecond.toFixed(0)} connections/s, ${connect.workers} worker(s))`,
    `relay RSS before   ${before === undefined ? 'not read' : `${before.toFixed(1)} MiB`} (accounts provisioned, no socket open)`,
    `relay RSS after    ${after === undefined ? 'not sampled' : `${after.toFixed(1)} MiB`} (end of ${end} s idle with every socket open)`,
    `per connection     ${perSocket === undefined ? 'n/a' : `${perSocket.toFixed(2)} KB RSS`}`,
    serviceLine(report, server, 'relay'),
  ];
}

if (require.main === module) mainPreset(CONNECTIONS_PRESET);
