import { Pool } from 'pg';
import { newSecretCode } from '@sealpost/crypto';
import { RegistrationTokensRepository } from '../accounts/registration-tokens.repository';

const TOKEN_BYTES = 16;
const DURATION = /^([0-9]{1,6})([smhd])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export class UsageError extends Error {}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * `registration-token create --uses N [--expires-in 7d]` prints a new token once (only its hash is kept);
 * `registration-token list`; `registration-token revoke ID`.
 */
export async function registrationTokenCommand(pool: Pool, args: string[], print: (line: string) => void): Promise<void> {
  const tokens = new RegistrationTokensRepository(pool);
  const [verb] = args;
  if (verb === 'create') {
    const uses = Number(flag(args, '--uses') ?? '1');
    if (!Number.isInteger(uses) || uses < 1 || uses > 1_000_000) throw new UsageError('--uses must be an integer 1..1000000');
    const expiresIn = flag(args, '--expires-in');
    let expiresAt: Date | null = null;
    if (expiresIn) {
      const m = DURATION.exec(expiresIn);
      if (!m) throw new UsageError('--expires-in must look like 30m, 12h or 7d');
      expiresAt = new Date(Date.now() + Number(m[1]) * UNIT_SECONDS[m[2]] * 1000);
    }
    const { code, hash } = newSecretCode(TOKEN_BYTES);
    const id = await tokens.insert(hash, uses, expiresAt);
    print(`registration token #${id}: ${code}`);
    print(`  uses: ${uses}, expires: ${expiresAt ? expiresAt.toISOString() : 'never'} (shown once; only its hash is stored)`);
    return;
  }
  if (verb === 'list') {
    const all = await tokens.list();
    if (all.length === 0) print('no registration tokens');
    for (const t of all) {
      print(
        `#${t.id}  uses left ${t.usesLeft}  expires ${t.expiresAt ? t.expiresAt.toISOString() : 'never'}  created ${t.createdAt.toISOString()}`,
      );
    }
    return;
  }
  if (verb === 'revoke') {
    const id = args[1];
    if (!id || !/^[0-9]+$/.test(id)) throw new UsageError('usage: registration-token revoke ID');
    print((await tokens.revoke(id)) ? `revoked #${id}` : `no token #${id}`);
    return;
  }
  throw new UsageError('usage: registration-token create --uses N [--expires-in 7d] | list | revoke ID');
}
