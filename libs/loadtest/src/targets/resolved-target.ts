import type { MetricsEndpoint, ServiceKind } from '../options/load-options';

/** A homeserver the run drives, as its discovery document (or the spawner) describes it. */
export interface ResolvedTarget {
  serverName: string;
  /** Base URL of the discovery document (`/.well-known/sealpost` is under it). */
  discoveryUrl: string;
  directoryUrl: string;
  relayUrl: string;
  federationUrl: string;
  registrationToken?: string;
  /** The services' `/metrics` pages the run samples (given, known from spawning, or found at the discovery URLs). */
  metrics: { service: ServiceKind; url: string }[];
}

/** The `--metrics` endpoints that belong to `serverName` (one without a server belongs to the only target). */
export function metricsFor(serverName: string, endpoints: MetricsEndpoint[], targets: number): { service: ServiceKind; url: string }[] {
  return endpoints
    .filter((e) => e.server === serverName || (e.server === undefined && targets === 1))
    .map((e) => ({ service: e.service, url: e.url }));
}

/**
 * True when the URL's host is an IPv4 loopback address (127.x.y.z): the run then spreads its
 * sockets over 127.0.x.y source addresses. Not for `localhost`, which may resolve to ::1, where an
 * IPv4 source address cannot be bound.
 */
export function isIpv4LoopbackUrl(url: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(new URL(url).hostname);
}
