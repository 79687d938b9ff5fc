import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '@sealpost/config';
import { canonicalJson, generateEd25519KeyPair, initCrypto, signEd25519 } from '@sealpost/crypto';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { ServerKeyFile, ServerKeyFilesStore } from './server-key-files.store';
import { ServerKeysRepository } from './server-keys.repository';

const RELOAD_INTERVAL_MS = 60_000;
/** Expired keys stay listed (as oldKeys) this long, so late verifiers can still check them. */
const OLD_KEY_LISTING_MS = 30 * 86400 * 1000;

export interface PublishedKey {
  keyId: string;
  publicKey: string;
  validUntil: string;
}

/** The `/federation/v1/server-keys` document. `signatures` maps keyId → base64 Ed25519 signature. */
export interface ServerKeysDocument {
  server: string;
  keys: PublishedKey[];
  oldKeys: PublishedKey[];
  signatures: Record<string, string>;
}

/** The body that the signatures cover: the document without `signatures`, in canonical JSON. */
export function serverKeysSigningBytes(doc: Omit<ServerKeysDocument, 'signatures'>): string {
  return canonicalJson({ server: doc.server, keys: doc.keys, oldKeys: doc.oldKeys });
}

export function newKeyFile(validitySeconds: number): ServerKeyFile {
  const pair = generateEd25519KeyPair();
  const now = new Date();
  return {
    keyId: `k${now.toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(3).toString('hex')}`,
    publicKey: pair.publicKey.toString('base64'),
    secretKey: pair.secretKey.toString('base64'),
    createdAt: now.toISOString(),
    validUntil: new Date(now.getTime() + validitySeconds * 1000).toISOString(),
  };
}

/**
 * This server's Ed25519 signing keys: generated on first start, reloaded from KEYS_DIR every
 * minute (so `npm run admin -- federation rotate-key` reaches running replicas), newest valid key
 * signs requests, every valid key signs the published document (so peers accept a rotation).
 */
@Injectable()
export class ServerKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ServerKeysService.name);
  private readonly files: ServerKeyFilesStore;
  private keys: ServerKeyFile[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly repository: ServerKeysRepository,
  ) {
    this.files = new ServerKeyFilesStore(config.keysDir);
  }

  async onModuleInit(): Promise<void> {
    await initCrypto();
    await this.reload();
    if (!this.signingKeyOrNull()) {
      const created = newKeyFile(this.config.serverKeyValiditySeconds);
      if (await this.files.create(created)) this.logger.log(`generated federation signing key ${created.keyId}`);
      await this.reload();
    }
    this.timer = setInterval(() => void this.reload().catch(() => undefined), RELOAD_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The key that signs outgoing requests: the newest one still valid. */
  signingKey(): { keyId: string; secretKey: Buffer } {
    const key = this.signingKeyOrNull();
    if (!key) throw new Error('no valid federation signing key');
    return { keyId: key.keyId, secretKey: Buffer.from(key.secretKey, 'base64') };
  }

  document(): ServerKeysDocument {
    const now = Date.now();
    const valid = this.keys.filter((k) => Date.parse(k.validUntil) > now);
    const old = this.keys.filter((k) => Date.parse(k.validUntil) <= now && Date.parse(k.validUntil) > now - OLD_KEY_LISTING_MS);
    const publish = (k: ServerKeyFile): PublishedKey => ({ keyId: k.keyId, publicKey: k.publicKey, validUntil: k.validUntil });
    const body = { server: this.config.serverName, keys: valid.map(publish), oldKeys: old.map(publish) };
    const bytes = serverKeysSigningBytes(body);
    const signatures = Object.fromEntries(
      valid.map((k) => [k.keyId, signEd25519(Buffer.from(k.secretKey, 'base64'), bytes).toString('base64')]),
    );
    return { ...body, signatures };
  }

  private signingKeyOrNull(): ServerKeyFile | null {
    const now = Date.now();
    const valid = this.keys.filter((k) => Date.parse(k.validUntil) > now);
    return valid[valid.length - 1] ?? null;
  }

  /** Adds keys found in KEYS_DIR; a key already loaded is kept even if its file went away. */
  private async reload(): Promise<void> {
    const found = await this.files.list();
    const known = new Set(this.keys.map((k) => k.keyId));
    this.keys = [...this.keys, ...found.filter((k) => !known.has(k.keyId))].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const k of found.filter((f) => !known.has(f.keyId))) {
      await this.repository.record({
        keyId: k.keyId,
        publicKey: Buffer.from(k.publicKey, 'base64'),
        createdAt: new Date(k.createdAt),
        validUntil: new Date(k.validUntil),
      });
    }
  }
}
