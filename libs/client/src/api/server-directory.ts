import { KeyTransparencyClient, KtClientOptions } from '../key-transparency.client';
import type { ClientStore } from '../store/client-store';
import { ClientStoreKtState } from '../store/store-kt-state';
import { HomeserverInfo, ServerLocator, discoverHomeserver } from './discovery';

const DISCOVERY_TTL_MS = 10 * 60_000;

/**
 * The homeservers this client deals with — its own and its contacts' — found through discovery
 * and cached; one key-transparency client per server, whose tree-head key is pinned in the store
 * at first sight (a later discovery document cannot swap it: KT follows endorsements from the pin).
 */
export class ServerDirectory {
  private readonly infos = new Map<string, { info: HomeserverInfo; until: number }>();
  private readonly kts = new Map<string, KeyTransparencyClient>();
  private readonly ktState: ClientStoreKtState;

  constructor(
    private readonly store: ClientStore,
    private readonly locate: ServerLocator,
    private readonly ktOptions: KtClientOptions = {},
  ) {
    this.ktState = new ClientStoreKtState(store);
  }

  async info(server: string): Promise<HomeserverInfo> {
    const cached = this.infos.get(server);
    if (cached && cached.until > Date.now()) return cached.info;
    const info = await discoverHomeserver(server, this.locate);
    if (info.server !== server) throw new Error(`discovery of ${server} answered for ${info.server}`);
    this.infos.set(server, { info, until: Date.now() + DISCOVERY_TTL_MS });
    return info;
  }

  /** Remembers a discovery document fetched another way (e.g. from a URL at registration). */
  remember(info: HomeserverInfo): void {
    this.infos.set(info.server, { info, until: Date.now() + DISCOVERY_TTL_MS });
  }

  async trustRoots(server: string): Promise<string[]> {
    const info = await this.info(server);
    return [info.sealedSenderTrustRoot, ...info.sealedSenderPreviousTrustRoots];
  }

  async keyTransparency(server: string): Promise<KeyTransparencyClient> {
    const existing = this.kts.get(server);
    if (existing) return existing;
    const info = await this.info(server);
    let pinned = await this.store.get('kt', `pin:${server}`);
    if (pinned === undefined) {
      pinned = info.ktPublicKey;
      await this.store.set('kt', `pin:${server}`, pinned);
    }
    const client = new KeyTransparencyClient(
      { server, directoryUrl: info.directory, ktPublicKey: pinned },
      this.ktState,
      fetchJson,
      this.ktOptions,
    );
    this.kts.set(server, client);
    return client;
  }

  get ktStateStore(): ClientStoreKtState {
    return this.ktState;
  }
}

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${new URL(url).pathname} answered ${response.status}`);
  return body;
}
