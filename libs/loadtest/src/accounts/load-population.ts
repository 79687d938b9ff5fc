import type { ResolvedTarget } from '../targets/resolved-target';
import type { StoredAccount } from './accounts-file';
import type { LoadAccount, LoadDevice, LoadPopulation, StoreSnapshot } from './load-accounts.types';

/**
 * The run's accounts and devices with their workers. Senders are the first `senders` devices in
 * (position, account) order — every account's primary before any second device, so they spread
 * over the targets — dealt to the workers in turn; the other devices are dealt the same way, so
 * every worker holds about as many sockets and at least one sender.
 */
export function buildPopulation(
  stored: StoredAccount[],
  targets: ResolvedTarget[],
  senders: number,
  workers: number,
): { population: LoadPopulation; stores: Map<number, StoreSnapshot> } {
  const accounts: LoadAccount[] = [];
  const devices: LoadDevice[] = [];
  const stores = new Map<number, StoreSnapshot>();
  for (const [index, account] of stored.entries()) {
    const target = targets.findIndex((t) => t.serverName === account.server);
    const mine: number[] = [];
    for (const [position, device] of [...account.devices].sort((a, b) => a.deviceId - b.deviceId).entries()) {
      const d = devices.length;
      devices.push({ index: d, account: index, deviceId: device.deviceId, position, worker: 0, sender: false, token: device.token });
      stores.set(d, device.store);
      mine.push(d);
    }
    accounts.push({ index, target, address: account.address, accessKey: account.accessKey, devices: mine });
  }
  const order = [...devices].sort((a, b) => a.position - b.position || a.account - b.account);
  order.forEach((device, i) => {
    device.sender = i < senders;
    device.worker = i % workers;
  });
  return { population: { accounts, devices }, stores };
}
