import { CONTACTS_PER_KIND, contactKind, planContacts } from './contact-plan';
import type { LoadPopulation } from './load-accounts.types';

/** `accounts` accounts alternating over two targets; the first `multi` have two devices; every primary sends. */
function population(accounts: number, multi: number): LoadPopulation {
  const p: LoadPopulation = { accounts: [], devices: [] };
  for (let i = 0; i < accounts; i++) {
    const devices = i < multi ? 2 : 1;
    const mine: number[] = [];
    for (let position = 0; position < devices; position++) {
      mine.push(p.devices.length);
      p.devices.push({
        index: p.devices.length,
        account: i,
        deviceId: position + 1,
        position,
        worker: 0,
        sender: position === 0,
        token: 't',
      });
    }
    p.accounts.push({ index: i, target: i % 2, address: `a${i}@hs${(i % 2) + 1}.test`, accessKey: 'k', devices: mine });
  }
  return p;
}

describe('planContacts: whom each sender talks to', () => {
  it('gives each sender contacts of the kinds the shares ask for, never its own account', () => {
    const p = population(20, 10);
    planContacts(p, { federatedShare: 0.5, multiDeviceShare: 0 });
    for (const device of p.devices.filter((d) => d.sender)) {
      const home = p.accounts[device.account];
      const contacts = device.contacts!;
      expect(contacts[contactKind(true, true)]).toEqual([]);
      expect(contacts[contactKind(false, true)]).toEqual([]);
      expect(contacts[contactKind(true, false)]).toHaveLength(CONTACTS_PER_KIND);
      for (const a of contacts[contactKind(true, false)])
        expect(p.accounts[a]).toMatchObject({ target: 1 - home.target, devices: [expect.any(Number)] });
      for (const a of contacts[contactKind(false, false)]) expect(p.accounts[a].target).toBe(home.target);
      expect(contacts.flat()).not.toContain(home.index);
    }
    expect(p.devices.filter((d) => !d.sender).every((d) => d.contacts === undefined)).toBe(true);
  });

  it('falls back to other kinds when the population has none of the wanted kind', () => {
    const p = population(2, 0);
    planContacts(p, { federatedShare: 0, multiDeviceShare: 0 });
    // Two accounts on two targets, local sends wanted: each has only a remote account to talk to.
    expect(p.devices[0].contacts![contactKind(true, false)]).toEqual([1]);
  });

  it('refuses a population where a sender has nobody to send to', () => {
    expect(() => planContacts(population(1, 0), { federatedShare: 0, multiDeviceShare: 0 })).toThrow(/at least two accounts/);
  });
});
