import { randomUUID } from 'node:crypto';
import type * as Signal from '@signalapp/libsignal-client';
import { parseAddress } from '@sealpost/contracts';
import { libsignal } from '@sealpost/crypto';
import { MismatchedDevicesError, OutcomeUnknownError, StaleDevicesError, UnauthorizedError } from '../api/api-errors';
import type { HomeserverApi, OutgoingEnvelope, SendAuthorisation } from '../api/homeserver-api';
import type { PreparedSend, SendOptions, SendReport } from '../client-types';
import { SEALED_SENDER_ENVELOPE_TYPE, SealedSessionCipher } from '../signal/sealed-session-cipher';
import type { AccountRecords, AccountState } from '../store/account-state';
import type { ClientStore } from '../store/client-store';
import { MessageContent, encodeContent } from './message-content';
import type { RecipientSessions } from './recipient-sessions';
import type { SendTransport } from './send-transport';

const CERTIFICATE_MARGIN_MS = 60 * 60_000;
const OUTCOME_RETRIES = 3;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * A device's sending: every device of the recipient gets its own libsignal ciphertext sealed with
 * this device's sender certificate; the request is authorised sealed (with the recipient's access
 * key, when known) or as the device; 409/410 are repaired once; `outcome_unknown` is retried with
 * the same Idempotency-Key; a sync copy goes to this account's other devices.
 */
export class MessageSender {
  private certificate?: { value: Signal.SenderCertificate; expiresAt: number };

  constructor(
    private readonly account: AccountState,
    private readonly api: HomeserverApi,
    private readonly store: ClientStore,
    private readonly records: AccountRecords,
    private readonly sessions: RecipientSessions,
    private readonly cipher: SealedSessionCipher,
    /** How requests reach the relay (default: HTTP). */
    private readonly transport: SendTransport = api,
  ) {}

  /** Sends `body` to every device of `address` (and a sync copy to this account's other devices). */
  async send(address: string, body: string | Uint8Array, options: SendOptions = {}): Promise<SendReport> {
    parseAddress(address);
    const content = this.contentOf(body);
    const sent = await this.deliver(address, content, options.sealed ?? true, options.urgent ?? false);
    let syncedDevices: number[] = [];
    if ((options.sync ?? true) && address !== this.account.address && (await this.hasOtherDevices())) {
      syncedDevices = (await this.deliver(this.account.address, { ...content, syncTo: address }, false, false)).devices;
    }
    return { messageId: content.id, ...sent, syncedDevices };
  }

  /**
   * Encrypts `body` to every device of `address` now (key transparency checked as for `send`)
   * and returns the request for the caller to send later — a bench's pre-sealed pool. Each call
   * advances the sessions like a send; nothing is sent and no sync copy is made.
   */
  async prepareSend(address: string, body: string | Uint8Array): Promise<PreparedSend> {
    parseAddress(address);
    const content = this.contentOf(body);
    const contact = await this.sessions.ensure(address);
    return { address, timestamp: content.sentAt, messages: await this.sealFor(contact.accountId, contact.devices, content) };
  }

  private contentOf(body: string | Uint8Array): MessageContent {
    return {
      v: 1,
      id: randomUUID(),
      from: this.account.address,
      fromDevice: this.account.deviceId,
      sentAt: Date.now(),
      body: b64(typeof body === 'string' ? Buffer.from(body, 'utf8') : body),
      accessKey: this.account.accessKey,
    };
  }

  private async deliver(
    address: string,
    content: MessageContent,
    preferSealed: boolean,
    urgent: boolean,
  ): Promise<{ devices: number[]; sealed: boolean; envelopeBytes: number[] }> {
    let contact = address === this.account.address ? await this.refreshOwnDevices() : await this.sessions.ensure(address);
    let sealed = preferSealed && contact.accessKey !== undefined && address !== this.account.address;
    for (let attempt = 0; ; attempt++) {
      if (contact.devices.length === 0) return { devices: [], sealed, envelopeBytes: [] };
      const envelopes = await this.sealFor(contact.accountId, contact.devices, content);
      const authorisation: SendAuthorisation = sealed ? { kind: 'sealed', accessKey: contact.accessKey! } : { kind: 'device' };
      try {
        await this.sendWithRetries(address, { timestamp: content.sentAt, urgent, messages: envelopes }, authorisation);
        return {
          devices: envelopes.map((e) => e.deviceId),
          sealed,
          envelopeBytes: envelopes.map((e) => Buffer.byteLength(e.content, 'base64')),
        };
      } catch (error) {
        if (attempt > 0) throw error;
        if (error instanceof MismatchedDevicesError) {
          contact = await this.sessions.repair(address, { missing: error.missingDevices, extra: error.extraDevices });
        } else if (error instanceof StaleDevicesError) {
          contact = await this.sessions.repair(address, { stale: error.staleDevices });
        } else if (error instanceof UnauthorizedError && sealed) {
          // The access key we hold is wrong or was replaced: forget it and send identified.
          await this.records.saveContact({ ...contact, accessKey: undefined });
          contact = { ...contact, accessKey: undefined };
          sealed = false;
        } else {
          throw error;
        }
      }
    }
  }

  private async sealFor(
    accountId: string,
    devices: { deviceId: number; registrationId: number }[],
    content: MessageContent,
  ): Promise<OutgoingEnvelope[]> {
    const certificate = await this.senderCertificate();
    const plaintext = encodeContent(content);
    return this.store.atomically(async () => {
      const envelopes: OutgoingEnvelope[] = [];
      for (const device of devices) {
        const sealed = await this.cipher.seal(accountId, device.deviceId, plaintext, certificate);
        envelopes.push({
          deviceId: device.deviceId,
          registrationId: device.registrationId,
          type: SEALED_SENDER_ENVELOPE_TYPE,
          content: b64(sealed),
        });
      }
      return envelopes;
    });
  }

  /** `outcome_unknown` (and a dropped connection) are retried with the same Idempotency-Key: stored at most once. */
  private async sendWithRetries(
    address: string,
    message: Parameters<HomeserverApi['send']>[1],
    authorisation: SendAuthorisation,
  ): Promise<void> {
    const idempotencyKey = randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.transport.send(address, message, authorisation, idempotencyKey);
        return;
      } catch (error) {
        const retriable = error instanceof OutcomeUnknownError || (error instanceof TypeError && /fetch failed/.test(error.message));
        if (!retriable || attempt >= OUTCOME_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  private async senderCertificate(): Promise<Signal.SenderCertificate> {
    if (this.certificate && this.certificate.expiresAt - CERTIFICATE_MARGIN_MS > Date.now()) return this.certificate.value;
    const answer = await this.api.senderCertificate();
    const value = libsignal().SenderCertificate.deserialize(Buffer.from(answer.certificate, 'base64'));
    this.certificate = { value, expiresAt: value.expiration() };
    return value;
  }

  private async hasOtherDevices(): Promise<boolean> {
    return (await this.refreshOwnDevices()).devices.length > 0;
  }

  /** This account's other devices, as the directory lists them now, with sessions (KT-verified) for the new ones. */
  private async refreshOwnDevices() {
    const listed = (await this.api.devices()).devices.filter((d) => d.deviceId !== this.account.deviceId);
    const contact = await this.records.contact(this.account.address);
    const known = contact?.devices ?? [];
    const same =
      contact?.identityKey !== undefined &&
      listed.length === known.length &&
      listed.every((d) => known.some((k) => k.deviceId === d.deviceId && k.registrationId === d.registrationId));
    if (same) return contact!;
    const missing = listed
      .filter((d) => !known.some((k) => k.deviceId === d.deviceId && k.registrationId === d.registrationId))
      .map((d) => d.deviceId);
    const extra = known
      .filter((k) => !listed.some((d) => d.deviceId === k.deviceId && d.registrationId === k.registrationId))
      .map((k) => k.deviceId);
    if (!contact?.identityKey) {
      await this.records.saveContact({
        address: this.account.address,
        accountId: this.account.accountId,
        identityKey: b64(
          libsignal().IdentityKeyPair.deserialize(Buffer.from(this.account.identityKeyPair, 'base64')).publicKey.serialize(),
        ),
        devices: [],
        accessKey: this.account.accessKey,
      });
    }
    return this.sessions.repair(this.account.address, { missing: listed.length === 0 ? [] : missing, extra });
  }
}
