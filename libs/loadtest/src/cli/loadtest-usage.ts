export const LOADTEST_USAGE_LINE =
  'usage: sealpost loadtest (--server URL ... | --spawn N) [--rate R --duration D | --stage D:R ...] [options]\n' +
  '       sealpost loadtest --compare a.json b.json';

export const LOADTEST_HELP = `${LOADTEST_USAGE_LINE}

Drives an open-model load of real sealed envelopes through Sealpost homeservers and reports
sent, accepted, delivered, lost and duplicated envelopes and their latencies from the INTENDED
send time (docs/LOADTEST.md).

targets
  --server URL              a homeserver's discovery URL (repeatable: several federated targets)
  --spawn N                 start N federated homeservers on loopback instead (needs npm run build;
                            databases <DATABASE_URL name>_loadtest_<n>, dropped after)
  --registration-token T    registration token: one for all targets or one per --server, in order
  --metrics SVC[@SERVER]=URL  a service's /metrics to sample (directory|relay|gateway; repeatable)

accounts
  --accounts N              accounts, spread over the targets (default 100)
  --devices-per-account D   devices of the multi-device accounts, 1..32 (default 1)
  --accounts-file FILE      keep the accounts (TEST CREDENTIALS: tokens and private keys) in FILE
                            and reuse them on the next run
  --senders N               devices that send (default: all devices, at most 256)
  --workers W               worker processes holding the sockets and sending (default 1)

load
  --rate R --duration D     constant arrival rate R/s for D (default 100/s for 30s)
  --stage D:R               a stage of duration D ramping linearly to R/s (repeatable, in order;
                            the first ramps from --start-rate, default 0)
  --federated-share X       share of sends to another target's users (default 0.5 with 2+ targets)
  --multi-device-share X    share of sends to multi-device accounts (default 1 with D > 1)
  --sealed-share X          share of sends with sealed sender (default 1); shares: 0..1 or 25%
  --size B | MIN-MAX        plaintext bytes per message (default 64-512)
  --max-in-flight N         requests in flight per worker before due sends wait (default 10000)
  --pool-size N             pre-sealed messages per worker, reused in turn (default 2048)
  --warmup N                N unmeasured sends (closed loop) before the clock, drained before it starts
  --conversations           each sender and its contacts' devices exchange a message before the load,
                            so it sends conversation messages (~1 KiB sealed), not first-contact
                            PreKey messages (a few KiB); set-up takes ~0.1-0.2 s per pair
  --verify                  decrypt every delivery with libsignal and check it (seals one message
                            per send before the clock: at most 30000 sends)
  --connect-concurrency N   WebSocket upgrades in flight per worker (default 200)

bounds and output
  --drain D                 after the last stage, wait up to D for deliveries (default 10s)
  --max-duration D          hard cap on the load part (default: stages + drain + 60s)
  --json FILE               the JSON report (default loadtest-<time>.json in --out or the cwd)
  --html FILE               the self-contained HTML report (default: the JSON file's name with .html)
  --out DIR                 folder for the default report files
  --threshold EXPR          e.g. 'p99<50ms', 'lost==0', 'delivered>=99.9%' (repeatable)
  --quiet                   no progress line per second on stderr
  --compare a.json b.json   print the difference of two reports and exit
  --help, -h                this help

Exit codes: 0 passed; 1 a threshold failed, an accepted envelope was lost, or the run failed;
2 a usage error; 130 interrupted (the report of what ran is still written).
`;
