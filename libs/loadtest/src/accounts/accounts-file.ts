import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { StoreSnapshot } from './load-accounts.types';

const FORMAT = 'sealpost-loadtest-accounts/1';
const NOTE =
  'TEST CREDENTIALS written by `sealpost loadtest --accounts-file`: bearer tokens, identity and prekey private keys of load-test ' +
  'accounts. Anyone holding this file can act as these accounts. Keep it with the operator; do not reuse it for real users.';

/** One account as kept in the file: enough to act as each of its devices again. */
export interface StoredAccount {
  server: string;
  address: string;
  accessKey: string;
  devices: { deviceId: number; token: string; store: StoreSnapshot }[];
}

interface AccountsFileContent {
  format: typeof FORMAT;
  note: string;
  accounts: StoredAccount[];
}

/** The accounts of an earlier run; none when the file does not exist yet. A file in another format is an error, never overwritten. */
export function readAccountsFile(path: string): StoredAccount[] {
  if (!existsSync(path)) return [];
  let content: Partial<AccountsFileContent>;
  try {
    content = JSON.parse(readFileSync(path, 'utf8')) as Partial<AccountsFileContent>;
  } catch {
    throw new Error(`--accounts-file ${path} is not JSON; refusing to overwrite it`);
  }
  if (content.format !== FORMAT || !Array.isArray(content.accounts)) {
    throw new Error(`--accounts-file ${path} is not a ${FORMAT} file; refusing to overwrite it`);
  }
  return content.accounts;
}

/** Writes the file whole (mode 0600, through a temporary file renamed over it). */
export function writeAccountsFile(path: string, accounts: StoredAccount[]): void {
  const content: AccountsFileContent = { format: FORMAT, note: NOTE, accounts };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(content), { mode: 0o600 });
  renameSync(temporary, path);
}
