import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import { generateEd25519KeyPair, initCrypto, readOrCreateSecretFile, signEd25519 } from '@sealpost/crypto';
import { DIRECTORY_CONFIG } from '../directory.tokens';

const KEY_FILE = 'kt-ed25519.json';

/**
 * The directory's Ed25519 key that signs tree heads: a file in KEYS_DIR (generated on first
 * start with an exclusive create, so replicas share one key), never in Postgres or Redis.
 * Its public half is published in discovery as `ktPublicKey`.
 */
@Injectable()
export class KtSigningKey implements OnModuleInit {
  private key!: { keyId: string; publicKey: Buffer; secretKey: Buffer };

  constructor(@Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig) {}

  async onModuleInit(): Promise<void> {
    await initCrypto();
    const stored = JSON.parse(await readOrCreateSecretFile(this.config.keysDir, KEY_FILE, () => {
      const pair = generateEd25519KeyPair();
      return JSON.stringify({
        keyId: `kt${pair.publicKey.subarray(0, 4).toString('hex')}`, publicKey: pair.publicKey.toString('base64'), secretKey: pair.secretKey.toString('base64'),
      });
    })) as { keyId: string; publicKey: string; secretKey: string };
    this.key = { keyId: stored.keyId, publicKey: Buffer.from(stored.publicKey, 'base64'), secretKey: Buffer.from(stored.secretKey, 'base64') };
  }

  get keyId(): string {
    return this.key.keyId;
  }

  get publicKey(): Buffer {
    return this.key.publicKey;
  }

  sign(bytes: Uint8Array): Buffer {
    return signEd25519(this.key.secretKey, bytes);
  }
}
