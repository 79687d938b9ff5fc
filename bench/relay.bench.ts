/**
 * `npm run bench:relay`: a preset of the load engine (`sealpost loadtest`, docs/LOADTEST.md).
 * One spawned homeserver; devices send sealed-sender envelopes to each other through its ONE relay
 * at a constant open-model rate; latency runs from each send's INTENDED time (no coordinated
 * omission). Prints the engine's summary table, then the bench's headline: achieved delivered
 * rate, send→accept and send→deliver percentiles, lost and duplicated, the relay's CPU and RSS.
 *
 *   npm run bench:relay -- [--rate 3000] [--seconds 20] [--warmup 8] [--accounts 200] [--drain 5] [--workers 1] [--out DIR]
 *
 * The same run by hand: `npm run loadtest -- --spawn 1 --rate R --duration Ss --accounts A
 * --sealed-share 1 --warmup R×W --drain D --workers N`.
 */
import { defaultLoadOptions } from '@sealpost/loadtest';
import { PresetDefinition, deliveryLines, mainPreset, serviceLine } from './support/loadtest-preset';

type RelayFlag = 'rate' | 'seconds' | 'warmup' | 'accounts' | 'drain' | 'workers';

export const RELAY_PRESET: PresetDefinition<RelayFlag> = {
  name: 'bench:relay',
  about:
    'One spawned homeserver (sealpost loadtest --spawn 1): sealed-sender sends between its devices at a constant\n' +
    'open-model rate through one relay; the engine summary, then delivered rate, latencies, losses, relay CPU/RSS.',
  flags: {
    rate: { default: 3000, min: 0.001, help: 'sends per second (open model)' },
    seconds: { default: 20, min: 1, help: 'seconds of measured load' },
    warmup: { default: 8, min: 0, help: 'warm-up: rate × N unmeasured sends (closed loop) before the clock' },
    accounts: { default: 200, min: 2, help: 'accounts, one device each' },
    drain: { default: 5, min: 0, help: 'seconds to wait for deliveries after the last stage' },
    workers: { default: 1, min: 1, help: 'load-generating worker processes' },
  },
  dropped:
    '--http-connections and --max-outstanding (the engine sends over each device and caps requests in flight per worker: ' +
    'npm run loadtest -- --max-in-flight), --cpu-prof (start a relay under --cpu-prof and use npm run loadtest -- --server).',
  options: (v) =>
    defaultLoadOptions({
      spawn: 1,
      accounts: v.accounts,
      workers: v.workers,
      stages: [{ label: `${v.seconds}s:${v.rate}`, durationSeconds: v.seconds, rateTo: v.rate }],
      startRate: v.rate,
      federatedShare: 0,
      sealedShare: 1,
      warmupSends: Math.round(v.rate * v.warmup),
      drainSeconds: v.drain,
    }),
  headline: (report) => [...deliveryLines(report), serviceLine(report, report.targets[0].serverName, 'relay')],
};

if (require.main === module) mainPreset(RELAY_PRESET);
