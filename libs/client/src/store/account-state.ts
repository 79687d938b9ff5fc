import type { ClientStore } from './client-store';

/** This device's account: the secrets (identity key pair, token, access key) live here and only here. */
export interface AccountState {
  address: string;
  accountId: string;
  deviceId: number;
  /** Bearer token of this device. */
  token: string;
  /** Base URL the homeserver was discovered at. */
  baseUrl: string;
  registrationId: number;
  /** libsignal IdentityKeyPair, serialised, base64. */
  identityKeyPair: string;
  /** This account's 16-byte unidentified-access key, base64: contacts need it to send sealed. */
  accessKey: string;
}

/** What this client knows about an address it talks to. */
export interface Contact {
  address: string;
  accountId: string;
  /** The identity key last verified against key transparency, base64 (`0x05‖u`). */
  identityKey?: string;
  /** The devices with a session, as last verified. */
  devices: { deviceId: number; registrationId: number }[];
  /** Their access key, learned from their messages: lets this client send to them sealed. */
  accessKey?: string;
}

const ACCOUNT_KEY = 'self';

/** Typed reads and writes of the account and contact records of a ClientStore. */
export class AccountRecords {
  constructor(private readonly store: ClientStore) {}

  async account(): Promise<AccountState | undefined> {
    const text = await this.store.get('account', ACCOUNT_KEY);
    return text === undefined ? undefined : (JSON.parse(text) as AccountState);
  }

  async requireAccount(): Promise<AccountState> {
    const account = await this.account();
    if (!account) throw new Error('this client state holds no account: register or link a device first');
    return account;
  }

  saveAccount(account: AccountState): Promise<void> {
    return this.store.set('account', ACCOUNT_KEY, JSON.stringify(account));
  }

  async contact(address: string): Promise<Contact | undefined> {
    const text = await this.store.get('contact', address);
    return text === undefined ? undefined : (JSON.parse(text) as Contact);
  }

  async contactByAccountId(accountId: string): Promise<Contact | undefined> {
    const address = await this.store.get('contact', `id:${accountId}`);
    return address === undefined ? undefined : this.contact(address);
  }

  async saveContact(contact: Contact): Promise<void> {
    await this.store.atomically(async () => {
      await this.store.set('contact', contact.address, JSON.stringify(contact));
      await this.store.set('contact', `id:${contact.accountId}`, contact.address);
    });
  }

  async contacts(): Promise<Contact[]> {
    const keys = (await this.store.keys('contact')).filter((k) => !k.startsWith('id:'));
    return (await Promise.all(keys.map((k) => this.contact(k)))).filter((c): c is Contact => c !== undefined);
  }

  /** The next value of a counter (key ids), starting at `first`. */
  async nextId(counter: string, first: number, count = 1): Promise<number> {
    const current = Number((await this.store.get('counter', counter)) ?? first);
    await this.store.set('counter', counter, String(current + count));
    return current;
  }

  async counter(counter: string): Promise<number | undefined> {
    const text = await this.store.get('counter', counter);
    return text === undefined ? undefined : Number(text);
  }

  setCounter(counter: string, value: number): Promise<void> {
    return this.store.set('counter', counter, String(value));
  }
}
