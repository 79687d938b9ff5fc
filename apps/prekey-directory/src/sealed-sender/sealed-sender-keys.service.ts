import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { libsignal, readOrCreateSecretFile } from '@sealpost/crypto';
import { DIRECTORY_CONFIG } from '../directory.tokens';

const TRUST_ROOT_FILE = 'sealed-sender-trust-root.key';
const SERVER_KEY_FILE = 'sealed-sender-server.key';
const SERVER_CERTIFICATE_KEY_ID = 1;

/**
 * The homeserver's sealed-sender keys, as libsignal uses them: a trust root (published in
 * discovery) and a server key certified by it, which signs sender certificates. Both are
 * Curve25519 private keys kept as files in KEYS_DIR (generated on first start, exclusive create),
 * never in Postgres or Redis. Rotation: replace the files and restart; clients re-fetch discovery.
 */
@Injectable()
export class SealedSenderKeys implements OnModuleInit {
  private readonly logger = new Logger(SealedSenderKeys.name);
  private trustRoot!: import('@signalapp/libsignal-client').PrivateKey;
  private serverKey!: import('@signalapp/libsignal-client').PrivateKey;
  private serverCertificate!: import('@signalapp/libsignal-client').ServerCertificate;

  constructor(@Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig) {}

  async onModuleInit(): Promise<void> {
    const { PrivateKey, ServerCertificate } = libsignal();
    this.trustRoot = PrivateKey.deserialize(new Uint8Array(await this.loadOrCreate(TRUST_ROOT_FILE)));
    this.serverKey = PrivateKey.deserialize(new Uint8Array(await this.loadOrCreate(SERVER_KEY_FILE)));
    this.serverCertificate = ServerCertificate.new(SERVER_CERTIFICATE_KEY_ID, this.serverKey.getPublicKey(), this.trustRoot);
  }

  trustRootPublicKey(): Buffer {
    return Buffer.from(this.trustRoot.getPublicKey().serialize());
  }

  /** A libsignal SenderCertificate for one device; `identityKey` is its 33-byte Curve25519 key. */
  senderCertificate(accountId: string, deviceId: number, identityKey: Buffer, expiresAt: number): Buffer {
    const { PublicKey, SenderCertificate } = libsignal();
    const certificate = SenderCertificate.new(accountId, null, deviceId, PublicKey.deserialize(new Uint8Array(identityKey)), expiresAt, this.serverCertificate, this.serverKey);
    return Buffer.from(certificate.serialize());
  }

  private async loadOrCreate(name: string): Promise<Buffer> {
    const stored = await readOrCreateSecretFile(this.config.keysDir, name, () => {
      this.logger.log(`generating ${name.replace('.key', '').replace(/-/g, ' ')}`);
      return Buffer.from(libsignal().PrivateKey.generate().serialize()).toString('base64');
    });
    return Buffer.from(stored.trim(), 'base64');
  }
}
