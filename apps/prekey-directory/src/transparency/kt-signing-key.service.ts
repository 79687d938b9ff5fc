import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { DirectoryConfig } from '@sealpost/config';
import {
  createSecretFile,
  generateEd25519KeyPair,
  initCrypto,
  keyGenerationFileName,
  listKeyGenerations,
  signEd25519,
} from '@sealpost/crypto';
import { KtKeysDocument, ktKeyEndorsementBytes } from '@sealpost/transparency';
import { DIRECTORY_CONFIG } from '../directory.tokens';

/** Generation 1 is `kt-ed25519.json`; `npm run admin -- kt rotate-key` adds `kt-ed25519.N.json`. */
export const KT_KEY_STEM = 'kt-ed25519';
export const KT_KEY_EXT = 'json';
const RELOAD_INTERVAL_MS = 60_000;

export interface KtKeyFile {
  keyId: string;
  publicKey: string;
  secretKey: string;
  endorsedBy?: string;
  endorsement?: string;
}

export function newKtKeyFile(): KtKeyFile {
  const pair = generateEd25519KeyPair();
  return {
    keyId: `kt${pair.publicKey.subarray(0, 4).toString('hex')}`,
    publicKey: pair.publicKey.toString('base64'),
    secretKey: pair.secretKey.toString('base64'),
  };
}

/** A new key endorsed by `previous`: its signature over the new key binds the rotation to this server. */
export function endorsedKtKeyFile(server: string, previous: KtKeyFile): KtKeyFile {
  const next = newKtKeyFile();
  const endorsement = signEd25519(Buffer.from(previous.secretKey, 'base64'), ktKeyEndorsementBytes(server, next.keyId, next.publicKey));
  return { ...next, endorsedBy: previous.keyId, endorsement: endorsement.toString('base64') };
}

export async function readKtKeyFiles(keysDir: string): Promise<KtKeyFile[]> {
  return (await listKeyGenerations(keysDir, KT_KEY_STEM, KT_KEY_EXT)).map((g) => JSON.parse(g.contents) as KtKeyFile);
}

/**
 * The directory's Ed25519 keys that sign tree heads: files in KEYS_DIR (the first generated on
 * first start with an exclusive create, so replicas share it), never in Postgres or Redis. The
 * newest signs; each later key is endorsed by the one before (`GET /v1/kt/keys`), so clients and
 * peers that pinned an older key follow a rotation. Reloaded every minute. The newest public key
 * is `ktPublicKey` in discovery.
 */
@Injectable()
export class KtSigningKey implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KtSigningKey.name);
  private keys: KtKeyFile[] = [];
  private timer?: NodeJS.Timeout;

  constructor(@Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig) {}

  async onModuleInit(): Promise<void> {
    await initCrypto();
    if ((await readKtKeyFiles(this.config.keysDir)).length === 0) {
      await createSecretFile(this.config.keysDir, keyGenerationFileName(KT_KEY_STEM, KT_KEY_EXT, 1), JSON.stringify(newKtKeyFile()));
    }
    await this.reload();
    this.timer = setInterval(
      () => void this.reload().catch((error: Error) => this.logger.warn(`kt keys not reloaded: ${error.message}`)),
      RELOAD_INTERVAL_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async reload(): Promise<void> {
    const keys = await readKtKeyFiles(this.config.keysDir);
    if (keys.length === 0) throw new Error(`no key-transparency key in ${this.config.keysDir}`);
    const changed = this.keys.length > 0 && this.keys.at(-1)?.keyId !== keys.at(-1)?.keyId;
    this.keys = keys;
    if (changed) this.logger.log(`tree heads are now signed by ${this.keyId}`);
  }

  private get current(): KtKeyFile {
    return this.keys[this.keys.length - 1];
  }

  get keyId(): string {
    return this.current.keyId;
  }

  get publicKey(): Buffer {
    return Buffer.from(this.current.publicKey, 'base64');
  }

  sign(bytes: Uint8Array): Buffer {
    return signEd25519(Buffer.from(this.current.secretKey, 'base64'), bytes);
  }

  /** Every key, oldest first, with its endorsement: public halves only. */
  keysDocument(): KtKeysDocument {
    return {
      server: this.config.serverName,
      keys: this.keys.map(({ keyId, publicKey, endorsedBy, endorsement }) => ({
        keyId,
        publicKey,
        ...(endorsedBy ? { endorsedBy, endorsement } : {}),
      })),
    };
  }
}
