import type { ServiceSample } from '../report/load-report';
import type { ResolvedTarget } from '../targets/resolved-target';

const SCRAPE_TIMEOUT_MS = 900;
const nowMs = () => performance.timeOrigin + performance.now();

/** The value of a Prometheus sample line `name value` (prom-client's process metrics, with or without the `sealpost_` prefix). */
export function metricValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^(?:sealpost_)?${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Each target service's CPU (share of one core since the previous scrape) and RSS, read from its
 * `/metrics` once a second while the run lasts. A scrape that fails or is slow is skipped, not
 * retried: the sample of that second is missing, the next one spans two seconds.
 */
export class ServiceSampler {
  readonly samples: ServiceSample[] = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly last = new Map<string, { cpu: number; at: number }>();
  private readonly endpoints: { server: string; service: ServiceSample['service']; url: string }[];

  constructor(targets: ResolvedTarget[]) {
    this.endpoints = targets.flatMap((t) => t.metrics.map((m) => ({ server: t.serverName, service: m.service, url: m.url })));
  }

  get endpointCount(): number {
    return this.endpoints.length;
  }

  /** Samples from now on; `t` of each sample is seconds since `t0EpochMs`. */
  start(t0EpochMs: number): void {
    if (this.endpoints.length === 0) return;
    this.running = true;
    const round = async () => {
      await Promise.all(this.endpoints.map((e) => this.scrape(e, t0EpochMs)));
      if (this.running) this.timer = setTimeout(() => void round(), 1000);
    };
    void round();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async scrape(endpoint: (typeof this.endpoints)[number], t0EpochMs: number): Promise<void> {
    let text: string;
    try {
      const answer = await fetch(endpoint.url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
      if (!answer.ok) return;
      text = await answer.text();
    } catch {
      return;
    }
    const at = nowMs();
    const cpu = metricValue(text, 'process_cpu_seconds_total');
    const rss = metricValue(text, 'process_resident_memory_bytes');
    if (cpu === undefined || rss === undefined) return;
    const key = `${endpoint.server}/${endpoint.service}`;
    const previous = this.last.get(key);
    this.last.set(key, { cpu, at });
    if (!previous || !this.running) return;
    this.samples.push({
      t: Math.round((at - t0EpochMs) / 100) / 10,
      server: endpoint.server,
      service: endpoint.service,
      cpuCores: Math.round(((cpu - previous.cpu) / ((at - previous.at) / 1000)) * 1000) / 1000,
      rssMiB: Math.round((rss / 1048576) * 10) / 10,
    });
  }
}
