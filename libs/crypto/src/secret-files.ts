import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Server secrets live as files (mode 0600) in a folder of their own (KEYS_DIR), never in Postgres
 * or Redis. Files are written with an exclusive create, so replicas starting together on a shared
 * folder agree on one secret instead of overwriting each other's.
 */

/** Writes `name` unless it exists; false when it already did. */
export async function createSecretFile(dir: string, name: string, contents: string): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const handle = await open(join(dir, name), 'wx', 0o600);
    await handle.writeFile(contents);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false;
    throw error;
  }
}

/** The contents of `name`, generating it first with `generate()` if it does not exist yet. */
export async function readOrCreateSecretFile(dir: string, name: string, generate: () => string): Promise<string> {
  const path = join(dir, name);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  await createSecretFile(dir, name, generate());
  return readFile(path, 'utf8');
}
