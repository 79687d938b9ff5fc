import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecretFile } from './secret-files';

/**
 * Rotating server secrets kept as generations of files in KEYS_DIR: generation 1 is
 * `{stem}.{ext}`, each rotation adds `{stem}.{N}.{ext}` with an exclusive create and never
 * rewrites a file, so a file's modification time is when its generation was made. The highest
 * generation is current; older ones stay for what they signed.
 */
export interface KeyGeneration {
  generation: number;
  contents: string;
  createdAt: Date;
}

/** Generations double as small integer key ids (e.g. a libsignal ServerCertificate's u32). */
const MAX_GENERATION = 1_000_000;

export function keyGenerationFileName(stem: string, ext: string, generation: number): string {
  return generation === 1 ? `${stem}.${ext}` : `${stem}.${generation}.${ext}`;
}

function generationOf(stem: string, ext: string, fileName: string): number | null {
  if (fileName === `${stem}.${ext}`) return 1;
  if (!fileName.startsWith(`${stem}.`) || !fileName.endsWith(`.${ext}`)) return null;
  const middle = fileName.slice(stem.length + 1, fileName.length - ext.length - 1);
  if (!/^[1-9][0-9]{0,6}$/.test(middle)) return null;
  const generation = Number(middle);
  return generation >= 2 && generation <= MAX_GENERATION ? generation : null;
}

/** Every generation, oldest first; empty when there is none (or no folder yet). */
export async function listKeyGenerations(dir: string, stem: string, ext: string): Promise<KeyGeneration[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  const found = names.flatMap((name) => {
    const generation = generationOf(stem, ext, name);
    return generation === null ? [] : [{ name, generation }];
  });
  const generations = await Promise.all(
    found.map(async ({ name, generation }) => {
      const path = join(dir, name);
      const [contents, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      return { generation, contents, createdAt: info.mtime };
    }),
  );
  return generations.sort((a, b) => a.generation - b.generation);
}

/**
 * Writes `contents(generation)` as the next generation and returns its number. Two rotations at
 * once on a shared folder each get a generation of their own.
 */
export async function addKeyGeneration(dir: string, stem: string, ext: string, contents: (generation: number) => string): Promise<number> {
  const existing = await listKeyGenerations(dir, stem, ext);
  for (let generation = (existing.at(-1)?.generation ?? 0) + 1; generation <= MAX_GENERATION; generation++) {
    if (await createSecretFile(dir, keyGenerationFileName(stem, ext, generation), contents(generation))) return generation;
  }
  throw new Error(`no free ${stem} key generation in ${dir}`);
}
