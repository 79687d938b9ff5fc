import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { PrivateKey, ServerCertificate } from '@signalapp/libsignal-client';
import type { DirectoryConfig } from '@sealpost/config';
import { createSecretFile, libsignal } from '@sealpost/crypto';
import { DIRECTORY_CONFIG } from '../directory.tokens';
import { SealedSenderKeyGeneration, SealedSenderKeyRole, listSealedSenderKeys, sealedSenderKeyFileName } from './sealed-sender-key-files';

/** Sender certificates live a day; clients refresh them well before (DESIGN: at most 7 days). */
export const SENDER_CERTIFICATE_LIFETIME_MS = 24 * 3600 * 1000;
const RELOAD_INTERVAL_MS = 60_000;

interface LoadedKeys {
  roots: SealedSenderKeyGeneration[];
  serverGeneration: number;
  serverKey: PrivateKey;
  serverCertificate: ServerCertificate;
}

/**
 * The homeserver's sealed-sender keys, as libsignal uses them: a trust root (published in
 * discovery) and a server key certified by it, which signs sender certificates. Both are
 * Curve25519 private keys kept as files in KEYS_DIR (generated on first start, never in Postgres
 * or Redis), rotated by `npm run admin -- sealed-sender rotate-server-key | rotate-trust-root`,
 * which add a generation that running directories pick up within a minute. The newest
 * generation of each signs; the server key's generation is its certificate's key id. A replaced
 * trust root stays published as previous for one certificate lifetime, so certificates issued
 * under it still validate until they expire.
 */
@Injectable()
export class SealedSenderKeys implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SealedSenderKeys.name);
  private loaded!: LoadedKeys;
  private timer?: NodeJS.Timeout;

  constructor(@Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig) {}

  async onModuleInit(): Promise<void> {
    for (const role of ['trust-root', 'server'] as const) await this.ensureOne(role);
    await this.reload();
    this.timer = setInterval(
      () => void this.reload().catch((error: Error) => this.logger.warn(`sealed-sender keys not reloaded: ${error.message}`)),
      RELOAD_INTERVAL_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Reads the key files again; a new generation takes over from the next certificate on. */
  async reload(): Promise<void> {
    const { PrivateKey, ServerCertificate } = libsignal();
    const roots = await listSealedSenderKeys(this.config.keysDir, 'trust-root');
    const servers = await listSealedSenderKeys(this.config.keysDir, 'server');
    const root = roots.at(-1);
    const server = servers.at(-1);
    if (!root || !server) throw new Error(`sealed-sender key files missing in ${this.config.keysDir}`);
    const previous = this.loaded;
    if (previous && previous.roots.at(-1)?.generation === root.generation && previous.serverGeneration === server.generation) {
      this.loaded = { ...previous, roots };
      return;
    }
    const rootKey = PrivateKey.deserialize(new Uint8Array(root.privateKey));
    const serverKey = PrivateKey.deserialize(new Uint8Array(server.privateKey));
    const serverCertificate = ServerCertificate.new(server.generation, serverKey.getPublicKey(), rootKey);
    this.loaded = { roots, serverGeneration: server.generation, serverKey, serverCertificate };
    if (previous) this.logger.log(`sealed-sender keys now: trust root generation ${root.generation}, server key id ${server.generation}`);
  }

  trustRootPublicKey(): Buffer {
    return publicKeyOf(this.loaded.roots.at(-1) as SealedSenderKeyGeneration);
  }

  /** Replaced roots whose successor is younger than a certificate lifetime, newest first. */
  previousTrustRootPublicKeys(now = Date.now()): Buffer[] {
    const { roots } = this.loaded;
    return roots
      .slice(0, -1)
      .filter((_, i) => now - roots[i + 1].createdAt.getTime() < SENDER_CERTIFICATE_LIFETIME_MS)
      .reverse()
      .map(publicKeyOf);
  }

  serverKeyId(): number {
    return this.loaded.serverGeneration;
  }

  /** A libsignal SenderCertificate for one device; `identityKey` is its 33-byte Curve25519 key. */
  senderCertificate(accountId: string, deviceId: number, identityKey: Buffer, expiresAt: number): Buffer {
    const { PublicKey, SenderCertificate } = libsignal();
    const { serverCertificate, serverKey } = this.loaded;
    const certificate = SenderCertificate.new(
      accountId,
      null,
      deviceId,
      PublicKey.deserialize(new Uint8Array(identityKey)),
      expiresAt,
      serverCertificate,
      serverKey,
    );
    return Buffer.from(certificate.serialize());
  }

  private async ensureOne(role: SealedSenderKeyRole): Promise<void> {
    if ((await listSealedSenderKeys(this.config.keysDir, role)).length > 0) return;
    // Replicas starting together on a shared folder: the exclusive create lets exactly one of
    // them write generation 1, and the others read it.
    const created = await createSecretFile(
      this.config.keysDir,
      sealedSenderKeyFileName(role, 1),
      newSealedSenderPrivateKey().toString('base64'),
    );
    if (created) this.logger.log(`generated sealed-sender ${role} key`);
  }
}

export function newSealedSenderPrivateKey(): Buffer {
  return Buffer.from(libsignal().PrivateKey.generate().serialize());
}

function publicKeyOf(generation: SealedSenderKeyGeneration): Buffer {
  return Buffer.from(libsignal().PrivateKey.deserialize(new Uint8Array(generation.privateKey)).getPublicKey().serialize());
}
