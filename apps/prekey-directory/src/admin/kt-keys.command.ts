import { addKeyGeneration, initCrypto } from '@sealpost/crypto';
import { UsageError } from './registration-token.command';
import { KT_KEY_EXT, KT_KEY_STEM, endorsedKtKeyFile, readKtKeyFiles } from '../transparency/kt-signing-key.service';

/**
 * `npm run admin -- kt keys | rotate-key`: the directory's tree-head keys in KEYS_DIR. A rotation
 * adds a key endorsed by the current one; running directories sign with it within a minute.
 * Only public keys are printed.
 */
export async function ktKeysCommand(
  keysDir: string,
  serverName: string,
  verb: string | undefined,
  print: (line: string) => void,
): Promise<void> {
  await initCrypto();
  const keys = await readKtKeyFiles(keysDir);
  if (verb === 'keys') {
    if (keys.length === 0) print(`no key-transparency key in ${keysDir} yet (made at the directory's first start)`);
    keys.forEach((k, i) =>
      print(
        `${k.keyId}${i === keys.length - 1 ? ' (signs now)' : ''}: public ${k.publicKey}${k.endorsedBy ? `, endorsed by ${k.endorsedBy}` : ''}`,
      ),
    );
    return;
  }
  if (verb !== 'rotate-key') throw new UsageError('usage: kt keys | rotate-key | evidence');
  const current = keys.at(-1);
  if (!current)
    throw new UsageError(`no key-transparency key in ${keysDir} yet: start the directory once (it makes the first key), or check KEYS_DIR`);
  const next = endorsedKtKeyFile(serverName, current);
  await addKeyGeneration(keysDir, KT_KEY_STEM, KT_KEY_EXT, () => JSON.stringify(next));
  print(`new tree-head key ${next.keyId} (public ${next.publicKey}), endorsed by ${current.keyId}, in ${keysDir}`);
  print(
    'running directories sign tree heads with it within a minute; clients and peers that pinned an older key follow the endorsements at GET /v1/kt/keys',
  );
}
