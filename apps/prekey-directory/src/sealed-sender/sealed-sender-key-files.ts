import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecretFile } from '@sealpost/crypto';

/**
 * The sealed-sender key files in KEYS_DIR, by generation. Generation 1 keeps its original name
 * (`sealed-sender-trust-root.key`, `sealed-sender-server.key`); each rotation adds the next one
 * (`sealed-sender-server.2.key`, …) with an exclusive create, and never rewrites a file, so a
 * file's modification time is when that generation was made. The highest generation is current.
 * Contents: the libsignal private key, base64.
 */
export type SealedSenderKeyRole = 'trust-root' | 'server';

export interface SealedSenderKeyGeneration {
  generation: number;
  privateKey: Buffer;
  createdAt: Date;
}

const STEM: Record<SealedSenderKeyRole, string> = { 'trust-root': 'sealed-sender-trust-root', server: 'sealed-sender-server' };
/** Generations are also libsignal ServerCertificate key ids (u32); a generous cap keeps them small. */
const MAX_GENERATION = 1_000_000;

export function sealedSenderKeyFileName(role: SealedSenderKeyRole, generation: number): string {
  return generation === 1 ? `${STEM[role]}.key` : `${STEM[role]}.${generation}.key`;
}

function generationOf(role: SealedSenderKeyRole, fileName: string): number | null {
  if (fileName === `${STEM[role]}.key`) return 1;
  const match = new RegExp(`^${STEM[role]}\\.([1-9][0-9]{0,6})\\.key$`).exec(fileName);
  const generation = match ? Number(match[1]) : null;
  return generation !== null && generation >= 2 && generation <= MAX_GENERATION ? generation : null;
}

/** Every generation of one role, oldest first; empty when there is none (or no folder yet). */
export async function listSealedSenderKeys(dir: string, role: SealedSenderKeyRole): Promise<SealedSenderKeyGeneration[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  const found = names.map((name) => ({ name, generation: generationOf(role, name) })).filter((f) => f.generation !== null);
  const generations = await Promise.all(found.map(async ({ name, generation }) => {
    const path = join(dir, name);
    const [contents, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { generation: generation as number, privateKey: Buffer.from(contents.trim(), 'base64'), createdAt: info.mtime };
  }));
  return generations.sort((a, b) => a.generation - b.generation);
}

/**
 * Writes `privateKey` as the next generation of `role` and returns its number. Two rotations at
 * once on a shared folder each get a generation of their own.
 */
export async function addSealedSenderKey(dir: string, role: SealedSenderKeyRole, privateKey: Buffer): Promise<number> {
  const existing = await listSealedSenderKeys(dir, role);
  for (let generation = (existing.at(-1)?.generation ?? 0) + 1; generation <= MAX_GENERATION; generation++) {
    if (await createSecretFile(dir, sealedSenderKeyFileName(role, generation), privateKey.toString('base64'))) return generation;
  }
  throw new Error(`no free sealed-sender ${role} key generation in ${dir}`);
}
