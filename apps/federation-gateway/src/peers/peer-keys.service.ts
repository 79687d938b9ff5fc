import { Inject, Injectable, Logger } from '@nestjs/common';
import type { GatewayConfig } from '@sealpost/config';
import { verifyEd25519 } from '@sealpost/crypto';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { ServerKeysDocument, serverKeysSigningBytes } from '../server-keys/server-keys.service';
import { BoundedCache } from '@sealpost/redis';
import { PeerHttp } from './peer-http';
import { PeerKeysRepository, PinnedKey } from './peer-keys.repository';
import { PeerResolver } from './peer-resolver.service';

const CACHE_MS = 300_000;
/** A peer with pinned keys may be asked again this soon (it may have rotated to a key not pinned yet). */
const KNOWN_PEER_REFETCH_MS = 10_000;

/** Key discovery for origins without a usable key is saturated: the request is answered 503 at once. */
export class KeyDiscoveryBusy extends Error {}

/**
 * Peers' public signing keys: fetched from their `/federation/v1/server-keys`, checked, then
 * pinned. Once a peer has pinned keys, a new document is accepted only if one of the still-valid
 * pinned keys signed it (a proper rotation); otherwise it is refused and logged.
 *
 * Any stranger can name an origin, so discovery is bounded: one fetch per origin at a time
 * (concurrent first requests all wait for it), at most FEDERATION_KEY_DISCOVERY_MAX_CONCURRENT
 * fetches at once over all origins (beyond that KeyDiscoveryBusy, never a queue), a fetch that
 * found nothing remembered for FEDERATION_KEY_DISCOVERY_NEGATIVE_TTL_SECONDS (10 s for a peer
 * with pinned keys), and every per-origin memory an LRU of FEDERATION_KEY_CACHE_MAX_ENTRIES.
 */
@Injectable()
export class PeerKeysService {
  private readonly logger = new Logger(PeerKeysService.name);
  private readonly cache: BoundedCache<string, PinnedKey[]>;
  /** Origins whose last fetch found nothing new, until it may be tried again. */
  private readonly nothingNew: BoundedCache<string, true>;
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly repository: PeerKeysRepository,
    private readonly resolver: PeerResolver,
    private readonly http: PeerHttp,
  ) {
    this.cache = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
    this.nothingNew = new BoundedCache(config.federationLimits.keyCacheMaxEntries);
  }

  /** The public key `server#keyId` may sign with now, or null. Throws KeyDiscoveryBusy. */
  async verificationKey(server: string, keyId: string): Promise<Buffer | null> {
    const known = await this.pinned(server);
    const hit = known.find((k) => k.keyId === keyId && k.validUntil.getTime() > Date.now());
    if (hit) return hit.publicKey;
    if (!(await this.refresh(server, known.length > 0))) return null;
    const after = await this.pinned(server);
    return after.find((k) => k.keyId === keyId && k.validUntil.getTime() > Date.now())?.publicKey ?? null;
  }

  /** Fetches and (if acceptable) pins the peer's current document; true when anything new was pinned. */
  async refresh(server: string, known = true): Promise<boolean> {
    const running = this.inFlight.get(server);
    if (running) return running;
    if (this.nothingNew.get(server)) return false;
    if (this.inFlight.size >= this.config.federationLimits.keyDiscoveryMaxConcurrent) throw new KeyDiscoveryBusy();
    const fetching = this.fetchAndPin(server)
      .catch((error: Error) => {
        this.logger.warn(`fetching server keys of ${server} failed: ${error.message}`);
        return false;
      })
      .then((pinned) => {
        if (!pinned) {
          const ttl = known ? KNOWN_PEER_REFETCH_MS : this.config.federationLimits.keyDiscoveryNegativeTtlSeconds * 1000;
          this.nothingNew.set(server, true, ttl);
        }
        return pinned;
      })
      .finally(() => this.inFlight.delete(server));
    this.inFlight.set(server, fetching);
    return fetching;
  }

  private async fetchAndPin(server: string): Promise<boolean> {
    let doc: ServerKeysDocument;
    try {
      const base = await this.resolver.federationUrl(server);
      const answer = await this.http.fetch(`${base}/federation/v1/server-keys`);
      if (answer.status !== 200) return false;
      doc = JSON.parse(answer.body.toString('utf8')) as ServerKeysDocument;
    } catch {
      return false;
    }
    const verdict = this.judge(server, doc, await this.repository.list(server));
    if (verdict) {
      this.logger.warn(`refused server keys of ${server}: ${verdict}`);
      return false;
    }
    for (const key of doc.keys) {
      await this.repository.pin(server, {
        keyId: key.keyId,
        publicKey: Buffer.from(key.publicKey, 'base64'),
        validUntil: new Date(key.validUntil),
      });
    }
    this.cache.delete(server);
    return true;
  }

  forget(server: string): void {
    this.cache.delete(server);
    this.nothingNew.delete(server);
  }

  /** Null when the document is acceptable, else the reason. */
  judge(server: string, doc: ServerKeysDocument, pinned: PinnedKey[]): string | null {
    if (!doc || doc.server !== server || !Array.isArray(doc.keys) || typeof doc.signatures !== 'object' || doc.signatures === null) {
      return 'malformed document';
    }
    const bytes = Buffer.from(
      serverKeysSigningBytes({ server: doc.server, keys: doc.keys, oldKeys: Array.isArray(doc.oldKeys) ? doc.oldKeys : [] }),
    );
    const signedBy = (keyId: string, publicKey: Buffer) => {
      const signature = doc.signatures[keyId];
      return typeof signature === 'string' && verifyEd25519(publicKey, bytes, Buffer.from(signature, 'base64'));
    };
    const listed = doc.keys.filter(
      (k) =>
        typeof k?.keyId === 'string' && Buffer.from(String(k.publicKey), 'base64').length === 32 && !Number.isNaN(Date.parse(k.validUntil)),
    );
    if (listed.length !== doc.keys.length || listed.length === 0) return 'no well-formed keys';
    if (!listed.some((k) => signedBy(k.keyId, Buffer.from(k.publicKey, 'base64')))) return 'not signed by any key it lists';
    for (const k of listed) {
      const same = pinned.find((p) => p.keyId === k.keyId);
      if (same && !same.publicKey.equals(Buffer.from(k.publicKey, 'base64'))) return `key ${k.keyId} changed its bytes`;
    }
    const stillValid = pinned.filter((p) => p.validUntil.getTime() > Date.now());
    if (stillValid.length > 0 && !stillValid.some((p) => signedBy(p.keyId, p.publicKey))) {
      return 'new keys are not signed by any key pinned for this peer (no valid rotation)';
    }
    return null;
  }

  private async pinned(server: string): Promise<PinnedKey[]> {
    const cached = this.cache.get(server);
    if (cached) return cached;
    const keys = await this.repository.list(server);
    this.cache.set(server, keys, CACHE_MS);
    return keys;
  }
}
