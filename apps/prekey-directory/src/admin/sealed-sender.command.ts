import { libsignal } from '@sealpost/crypto';
import { UsageError } from './registration-token.command';
import { SealedSenderKeyRole, addSealedSenderKey, listSealedSenderKeys } from '../sealed-sender/sealed-sender-key-files';
import { newSealedSenderPrivateKey } from '../sealed-sender/sealed-sender-keys.service';

const USAGE = 'usage: sealed-sender status | rotate-server-key | rotate-trust-root';

/**
 * `npm run admin -- sealed-sender …`: the sealed-sender keys in KEYS_DIR. A rotation adds the next
 * generation; running directories pick it up within a minute. Only public keys are printed.
 */
export async function sealedSenderCommand(keysDir: string, args: string[], print: (line: string) => void): Promise<void> {
  const [verb] = args;
  if (verb === 'status') {
    for (const role of ['trust-root', 'server'] as const) {
      const generations = await listSealedSenderKeys(keysDir, role);
      if (generations.length === 0) print(`${role}: none yet (made at the directory's first start)`);
      for (const g of generations) {
        const current = g === generations.at(-1) ? ' (current)' : '';
        print(`${role} ${g.generation}${current}: public ${publicKeyBase64(g.privateKey)}, made ${g.createdAt.toISOString()}`);
      }
    }
    return;
  }
  const role: SealedSenderKeyRole | null = verb === 'rotate-server-key' ? 'server' : verb === 'rotate-trust-root' ? 'trust-root' : null;
  if (!role) throw new UsageError(USAGE);
  if ((await listSealedSenderKeys(keysDir, role)).length === 0) {
    throw new UsageError(
      `no sealed-sender ${role} key in ${keysDir} yet: start the directory once (it makes the first keys), or check KEYS_DIR`,
    );
  }
  const privateKey = newSealedSenderPrivateKey();
  const generation = await addSealedSenderKey(keysDir, role, privateKey);
  print(`new sealed-sender ${role} key, generation ${generation}, public ${publicKeyBase64(privateKey)}, in ${keysDir}`);
  print(
    role === 'server'
      ? 'running directories sign sender certificates with it within a minute; certificates already issued stay valid until they expire'
      : 'running directories certify their server key with it within a minute; discovery lists the replaced root under sealedSenderPreviousTrustRoots for 24 h, so certificates already issued stay valid until they expire',
  );
}

function publicKeyBase64(privateKey: Buffer): string {
  return Buffer.from(libsignal().PrivateKey.deserialize(new Uint8Array(privateKey)).getPublicKey().serialize()).toString('base64');
}
