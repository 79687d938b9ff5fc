import { hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createSecretFile } from './secret-files';

/** The file in KEYS_DIR that holds the server secret (32 random bytes, base64). */
export const SERVER_SECRET_FILE = 'server-secret.key';
const SERVER_SECRET_BYTES = 32;

/**
 * The homeserver's one symmetric secret, from which every keyed hash and at-rest key is derived
 * (HKDF-SHA256, one `purpose` label per use, so no two uses share a key). It lives only in
 * KEYS_DIR: created whole on the first start of any service (exclusive create, so replicas and
 * services starting together agree on one), read once at start, never in Postgres or Redis.
 * It never prints: logging or serialising it shows a placeholder.
 */
export class ServerSecret {
  readonly #bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Reads `server-secret.key` from `keysDir`, creating it first if there is none. */
  static async loadOrCreate(keysDir: string): Promise<ServerSecret> {
    const path = join(keysDir, SERVER_SECRET_FILE);
    let text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (text === null) {
      await createSecretFile(keysDir, SERVER_SECRET_FILE, randomBytes(SERVER_SECRET_BYTES).toString('base64'));
      text = await readFile(path, 'utf8');
    }
    const bytes = Buffer.from(text.trim(), 'base64');
    // The message names the file, never its contents.
    if (bytes.length !== SERVER_SECRET_BYTES || bytes.toString('base64') !== text.trim()) {
      throw new Error(`${path} is not ${SERVER_SECRET_BYTES} bytes of base64: restore it from the KEYS_DIR backup`);
    }
    return new ServerSecret(bytes);
  }

  /** A 32-byte key for one purpose; the same purpose always gives the same key. */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#bytes, Buffer.alloc(0), `sealpost/${purpose}`, 32));
  }

  toJSON(): string {
    return '[server secret]';
  }

  [inspect.custom](): string {
    return 'ServerSecret [hidden]';
  }
}
