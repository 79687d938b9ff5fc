import { DiscoveryDocument, parseAddress } from '@sealpost/contracts';
import { apiErrorOf } from './api-errors';

/** A homeserver as its `/.well-known/sealpost` describes it, and where that document was found. */
export interface HomeserverInfo extends DiscoveryDocument {
  /** The URL the discovery document was fetched from (without the well-known path). */
  baseUrl: string;
}

/**
 * Where a server name's discovery document lives. The default is `https://{server}` (DESIGN §2);
 * a map (`{ 'alpha.test': 'http://127.0.0.1:8101' }`) serves loopback setups and tests.
 */
export type ServerLocator = (server: string) => string;

export function serverLocator(map: Record<string, string> = {}): ServerLocator {
  return (server) => map[server] ?? `https://${server}`;
}

/** `target` is a base URL (`http://…`, `https://…`), a server name or an address (`alice@alpha.example`). */
export function baseUrlOf(target: string, locate: ServerLocator): string {
  if (/^https?:\/\//i.test(target)) return target.replace(/\/+$/, '');
  return locate(target.includes('@') ? parseAddress(target).server : target);
}

/** Fetches and checks a discovery document. Throws a typed error for an error answer, and a plain Error for a document that is not one. */
export async function discoverHomeserver(target: string, locate: ServerLocator = serverLocator()): Promise<HomeserverInfo> {
  const baseUrl = baseUrlOf(target, locate);
  const response = await fetch(`${baseUrl}/.well-known/sealpost`, { headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => null)) as Partial<HomeserverInfo> | null;
  if (!response.ok) throw apiErrorOf(response.status, body, response.headers.get('retry-after'));
  const fields = ['server', 'directory', 'relay', 'federation', 'sealedSenderTrustRoot', 'ktPublicKey'] as const;
  for (const field of fields) {
    if (typeof body?.[field] !== 'string')
      throw new Error(`${baseUrl}/.well-known/sealpost is not a Sealpost discovery document (no ${field})`);
  }
  return {
    ...(body as HomeserverInfo),
    baseUrl,
    sealedSenderPreviousTrustRoots: Array.isArray(body!.sealedSenderPreviousTrustRoots) ? body!.sealedSenderPreviousTrustRoots : [],
  };
}
