import { discoverHomeserver } from '@sealpost/client';
import type { LoadOptions, ServiceKind } from '../options/load-options';
import { ResolvedTarget, metricsFor } from './resolved-target';

/**
 * The `--server` targets, from their discovery documents (`/.well-known/sealpost`). Discovery
 * names no metrics endpoint (the public ingress does not route `/metrics`): those come from
 * `--metrics`, else the run tries `/metrics` at the discovery document's own URLs once and keeps
 * the ones that answer with Prometheus process metrics (a loopback `npm start` does).
 */
export async function discoverTargets(options: LoadOptions): Promise<ResolvedTarget[]> {
  const targets: ResolvedTarget[] = [];
  for (const [i, url] of options.servers.entries()) {
    let info;
    try {
      info = await discoverHomeserver(url);
    } catch (error) {
      throw new Error(`${url}: no Sealpost discovery document (${(error as Error).message})`);
    }
    const token = options.registrationTokens.length === 1 ? options.registrationTokens[0] : options.registrationTokens[i];
    const given = metricsFor(info.server, options.metrics, options.servers.length);
    const urls: Record<ServiceKind, string> = { directory: info.directory, relay: info.relay, gateway: info.federation };
    targets.push({
      serverName: info.server,
      discoveryUrl: url,
      directoryUrl: info.directory,
      relayUrl: info.relay,
      federationUrl: info.federation,
      ...(token ? { registrationToken: token } : {}),
      metrics: given.length > 0 ? given : await reachableMetrics(urls),
    });
  }
  const names = targets.map((t) => t.serverName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`two --server URLs name the same homeserver ${twice}`);
  return targets;
}

async function reachableMetrics(urls: Record<ServiceKind, string>): Promise<{ service: ServiceKind; url: string }[]> {
  const found: { service: ServiceKind; url: string }[] = [];
  for (const [service, base] of Object.entries(urls) as [ServiceKind, string][]) {
    const url = `${base.replace(/\/+$/, '')}/metrics`;
    try {
      const answer = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (answer.ok && /process_cpu_seconds_total/.test(await answer.text())) found.push({ service, url });
    } catch {
      // not reachable from here: no samples for this service (say --metrics)
    }
  }
  return found;
}
