/**
 * `npm run bench:federation`: a preset of the load engine (`sealpost loadtest`, docs/LOADTEST.md).
 * Two spawned federated homeservers; EVERY send (identified, bearer token) goes to a device on the other homeserver
 * (relay → bus → gateway → signed batch → peer gateway → bus → peer relay → socket), at a
 * constant open-model rate, latency from each send's INTENDED time. Prints the engine's summary
 * table, then the bench's headline: delivered rate, latencies, losses, each relay's and gateway's
 * CPU and RSS.
 *
 *   npm run bench:federation -- [--rate 1500] [--seconds 20] [--warmup 2] [--accounts 250] [--senders 50] [--drain 10] [--workers 1] [--out DIR]
 *
 * The same run by hand: `npm run loadtest -- --spawn 2 --federated-share 1 --rate R --duration Ss
 * --accounts A --senders S --sealed-share 0 --warmup R×W --drain D --workers N`.
 */
import { defaultLoadOptions } from '@sealpost/loadtest';
import { PresetDefinition, PresetUsageError, deliveryLines, mainPreset, serviceLine } from './support/loadtest-preset';

type FederationFlag = 'rate' | 'seconds' | 'warmup' | 'accounts' | 'senders' | 'drain' | 'workers';

export const FEDERATION_PRESET: PresetDefinition<FederationFlag> = {
  name: 'bench:federation',
  about:
    'Two spawned federated homeservers (sealpost loadtest --spawn 2 --federated-share 1 --sealed-share 0): every identified send crosses to the\n' +
    'other homeserver, at a constant open-model rate; the engine summary, then delivered rate, latencies, losses,\n' +
    'relay and gateway CPU/RSS of both homeservers.',
  flags: {
    rate: { default: 1500, min: 0.001, help: 'sends per second (open model)' },
    seconds: { default: 20, min: 1, help: 'seconds of measured load' },
    warmup: { default: 2, min: 0, help: 'warm-up: rate × N unmeasured sends (closed loop) before the clock' },
    accounts: { default: 250, min: 2, help: 'accounts, one device each, split over the two homeservers' },
    senders: { default: 50, min: 1, help: 'devices that send (every device receives)' },
    drain: { default: 10, min: 0, help: 'seconds to wait for deliveries after the last stage' },
    workers: { default: 1, min: 1, help: 'load-generating worker processes' },
  },
  dropped:
    '--recipients (use --accounts: senders and recipients are on both homeservers, traffic runs both ways), ' +
    '--prewarm (now --warmup, in seconds at --rate), --http-connections and --max-outstanding (npm run loadtest -- --max-in-flight), ' +
    '--cpu-prof and --cpu-prof-services (start the services under --cpu-prof and use npm run loadtest -- --server).',
  options: (v) => {
    if (v.senders > v.accounts) throw new PresetUsageError(`--senders ${v.senders} is more than --accounts ${v.accounts}`);
    return defaultLoadOptions({
      spawn: 2,
      accounts: v.accounts,
      senders: v.senders,
      workers: v.workers,
      stages: [{ label: `${v.seconds}s:${v.rate}`, durationSeconds: v.seconds, rateTo: v.rate }],
      startRate: v.rate,
      federatedShare: 1,
      sealedShare: 0,
      warmupSends: Math.round(v.rate * v.warmup),
      drainSeconds: v.drain,
    });
  },
  headline: (report) => [
    ...deliveryLines(report),
    ...report.targets.flatMap((t) => [serviceLine(report, t.serverName, 'relay'), serviceLine(report, t.serverName, 'gateway')]),
  ],
};

if (require.main === module) mainPreset(FEDERATION_PRESET);
