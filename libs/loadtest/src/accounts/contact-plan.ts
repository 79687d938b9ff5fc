import type { LoadOptions } from '../options/load-options';
import type { LoadAccount, LoadPopulation } from './load-accounts.types';

/** Contacts each sender has per kind of recipient: sessions are set up with these only (a client talks to a few people). */
export const CONTACTS_PER_KIND = 4;

/** The four kinds of recipient, as indexes into a sender's `contacts`. */
export function contactKind(remote: boolean, multiDevice: boolean): number {
  return (remote ? 0 : 2) + (multiDevice ? 0 : 1);
}

/**
 * Gives every sending device its contacts: up to CONTACTS_PER_KIND accounts of each kind the run
 * sends to (remote when `federatedShare` > 0, local when < 1; multi-device when
 * `multiDeviceShare` > 0, single when < 1), never its own account. A sender left with no contact
 * of any wanted kind (a population too small for the shares) gets contacts of the other kinds.
 */
export function planContacts(population: LoadPopulation, options: Pick<LoadOptions, 'federatedShare' | 'multiDeviceShare'>): void {
  const wanted = (remote: boolean, multi: boolean) =>
    (remote ? options.federatedShare > 0 : options.federatedShare < 1) &&
    (multi ? options.multiDeviceShare > 0 : options.multiDeviceShare < 1);
  for (const device of population.devices) {
    if (!device.sender) continue;
    const home = population.accounts[device.account];
    const lists = (onlyWanted: boolean) =>
      [true, false].flatMap((remote) =>
        [true, false].map((multi) => (onlyWanted && !wanted(remote, multi) ? [] : pick(population.accounts, home, remote, multi))),
      );
    let contacts = lists(true);
    if (contacts.every((l) => l.length === 0)) contacts = lists(false);
    if (contacts.every((l) => l.length === 0)) throw new Error('the run needs at least two accounts: a sender has nobody to send to');
    device.contacts = contacts;
  }
}

function pick(accounts: LoadAccount[], home: LoadAccount, remote: boolean, multi: boolean): number[] {
  const candidates = accounts.filter(
    (a) => a.index !== home.index && (a.target !== home.target) === remote && a.devices.length > 1 === multi,
  );
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  return candidates.slice(0, CONTACTS_PER_KIND).map((a) => a.index);
}
