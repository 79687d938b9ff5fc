import { addKeyGeneration, keyGenerationFileName, listKeyGenerations } from '@sealpost/crypto';

/**
 * The sealed-sender key files in KEYS_DIR, by generation (see `listKeyGenerations`): generation 1
 * keeps its original name (`sealed-sender-trust-root.key`, `sealed-sender-server.key`); each
 * rotation adds the next (`sealed-sender-server.2.key`, …). Contents: the libsignal private key,
 * base64.
 */
export type SealedSenderKeyRole = 'trust-root' | 'server';

export interface SealedSenderKeyGeneration {
  generation: number;
  privateKey: Buffer;
  createdAt: Date;
}

const STEM: Record<SealedSenderKeyRole, string> = { 'trust-root': 'sealed-sender-trust-root', server: 'sealed-sender-server' };
const EXT = 'key';

export function sealedSenderKeyFileName(role: SealedSenderKeyRole, generation: number): string {
  return keyGenerationFileName(STEM[role], EXT, generation);
}

/** Every generation of one role, oldest first; empty when there is none (or no folder yet). */
export async function listSealedSenderKeys(dir: string, role: SealedSenderKeyRole): Promise<SealedSenderKeyGeneration[]> {
  return (await listKeyGenerations(dir, STEM[role], EXT)).map((g) => ({
    generation: g.generation,
    privateKey: Buffer.from(g.contents.trim(), 'base64'),
    createdAt: g.createdAt,
  }));
}

/** Writes `privateKey` as the next generation of `role` and returns its number. */
export function addSealedSenderKey(dir: string, role: SealedSenderKeyRole, privateKey: Buffer): Promise<number> {
  return addKeyGeneration(dir, STEM[role], EXT, () => privateKey.toString('base64'));
}
