import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createSecretFile } from '@sealpost/crypto';
import { join } from 'node:path';

/** One signing key as kept on disk (the only place its secret half exists). */
export interface ServerKeyFile {
  keyId: string;
  publicKey: string;
  secretKey: string;
  createdAt: string;
  validUntil: string;
}

const FILE_PATTERN = /^ed25519-([A-Za-z0-9_-]{1,32})\.json$/;

/**
 * The server's private signing keys as files (mode 0600) in KEYS_DIR — a mounted secret in
 * production, shared by the gateway's replicas. Written with an exclusive create, so replicas
 * starting together cannot overwrite each other's key.
 */
export class ServerKeyFilesStore {
  constructor(private readonly dir: string) {}

  async list(): Promise<ServerKeyFile[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = (await readdir(this.dir)).filter((n) => FILE_PATTERN.test(n));
    const keys = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(this.dir, n), 'utf8')) as ServerKeyFile));
    return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** False when a key with this id already exists. */
  create(key: ServerKeyFile): Promise<boolean> {
    return createSecretFile(this.dir, `ed25519-${key.keyId}.json`, JSON.stringify(key, null, 2));
  }
}
