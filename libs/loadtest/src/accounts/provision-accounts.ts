import { randomBytes } from 'node:crypto';
import { SealpostClient } from '@sealpost/client';
import type { LoadOptions } from '../options/load-options';
import type { ResolvedTarget } from '../targets/resolved-target';
import { StoredAccount, readAccountsFile, writeAccountsFile } from './accounts-file';
import { SnapshotClientStore } from './snapshot-client-store';

/**
 * One-time keys of each kind uploaded per device: one. Its other contacts get the last-resort PQ
 * key and no one-time EC key (X3DH allows it), and the state kept per device — in the accounts
 * file and in the workers' memory — stays small (a Kyber key pair is ~6 KiB of base64).
 */
const PREKEY_BATCH = 1;
const REGISTER_CONCURRENCY = 8;

/** How many devices account `i` has: the first share of the accounts (spread over the targets) are the multi-device ones. */
export function devicesOfAccount(i: number, options: LoadOptions): number {
  if (options.devicesPerAccount < 2 || options.multiDeviceShare === 0) return 1;
  const multi = options.multiDeviceShare >= 1 ? options.accounts : Math.max(1, Math.round(options.accounts * options.multiDeviceShare));
  return i < multi ? options.devicesPerAccount : 1;
}

/**
 * The run's accounts: account i lives on target i mod T with `devicesOfAccount(i)` devices. With
 * an accounts file, matching accounts of an earlier run are reused (same server, same number of
 * devices) and the missing ones registered with the client SDK (real identity keys, prekeys
 * uploaded; devices beyond the first linked through the SDK's link flow), then the file is
 * written back with every account it held plus the new ones.
 */
export async function provisionAccounts(
  options: LoadOptions,
  targets: ResolvedTarget[],
  progress: (line: string) => void,
): Promise<StoredAccount[]> {
  const kept = options.accountsFile ? readAccountsFile(options.accountsFile) : [];
  const unused = [...kept];
  const wanted = Array.from({ length: options.accounts }, (_, i) => ({
    target: targets[i % targets.length],
    devices: devicesOfAccount(i, options),
  }));
  const result: (StoredAccount | undefined)[] = wanted.map(({ target, devices }) => {
    const at = unused.findIndex((a) => a.server === target.serverName && a.devices.length === devices);
    return at >= 0 ? unused.splice(at, 1)[0] : undefined;
  });
  const missing = result.flatMap((a, i) => (a ? [] : [i]));
  if (missing.length > 0) {
    progress(
      `registering ${missing.length} accounts (${kept.length > 0 ? `${options.accounts - missing.length} reused from the accounts file` : 'none reused'})`,
    );
    const servers = Object.fromEntries(targets.map((t) => [t.serverName, t.discoveryUrl]));
    const runId = randomBytes(4).toString('hex');
    let done = 0;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < missing.length) {
        const i = missing[next++];
        result[i] = await registerAccount(`lt-${runId}-${i}`, wanted[i].target, wanted[i].devices, servers);
        if (++done % 100 === 0) progress(`registered ${done} of ${missing.length} accounts`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, missing.length) }, lane));
    if (options.accountsFile) writeAccountsFile(options.accountsFile, [...(result as StoredAccount[]), ...unused]);
  }
  return result as StoredAccount[];
}

async function registerAccount(
  localpart: string,
  target: ResolvedTarget,
  devices: number,
  servers: Record<string, string>,
): Promise<StoredAccount> {
  const primaryStore = new SnapshotClientStore();
  const primary = await SealpostClient.register({
    store: primaryStore,
    servers,
    server: target.serverName,
    localpart,
    registrationToken: target.registrationToken,
    preKeyBatch: PREKEY_BATCH,
  });
  const stored: StoredAccount = {
    server: target.serverName,
    address: primary.account.address,
    accessKey: primary.account.accessKey,
    devices: [{ deviceId: primary.account.deviceId, token: primary.account.token, store: primaryStore.snapshot() }],
  };
  while (stored.devices.length < devices) {
    const store = new SnapshotClientStore();
    let approval: Promise<void> = Promise.resolve();
    let approvalFailed: (error: unknown) => void = () => undefined;
    const refused = new Promise<never>((_, reject) => (approvalFailed = reject));
    const linked = await Promise.race([
      SealpostClient.link({
        store,
        servers,
        server: target.serverName,
        preKeyBatch: PREKEY_BATCH,
        onLinkCode: (code) => {
          approval = primary.approveLink(code).catch((error: unknown) => approvalFailed(error));
        },
      }),
      refused,
    ]);
    await approval;
    stored.devices.push({ deviceId: linked.account.deviceId, token: linked.account.token, store: store.snapshot() });
  }
  // The primary's store learned its linked devices (trusted as own): keep that too.
  stored.devices[0].store = primaryStore.snapshot();
  return stored;
}
