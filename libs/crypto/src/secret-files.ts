import { randomBytes } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Server secrets live as files (mode 0600) in a folder of their own (KEYS_DIR), never in Postgres
 * or Redis. A file appears whole or not at all (written under a temporary name, then hard-linked
 * to its name, which fails if the name exists), so replicas starting together on a shared folder
 * agree on one secret and never read a half-written one.
 */

/** Writes `name` unless it exists; false when it already did. */
export async function createSecretFile(dir: string, name: string, contents: string): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temporary, contents, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, join(dir, name));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
