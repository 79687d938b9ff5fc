import type { EnvelopeJson } from '@sealpost/contracts';
import { parseAddress } from '@sealpost/contracts';
import type { ServerDirectory } from '../api/server-directory';
import { certificateIsValid, SealedSessionCipher, SEALED_SENDER_ENVELOPE_TYPE } from '../signal/sealed-session-cipher';
import type { AccountRecords } from '../store/account-state';
import type { ClientStore } from '../store/client-store';
import { decodeContent } from './message-content';
import type { ReceivedMessage } from './received-message';

/** An envelope this client will not accept; the message says why (never with content). */
export class RefusedEnvelopeError extends Error {}

const SEEN_KEEP = 5_000;

/**
 * Turns an envelope into a ReceivedMessage exactly once. The session advance, the contact learned
 * and the decrypted message (kept in the `inbox` until the application confirms it) are written
 * in one store transaction, so a crash before the application stored the message redelivers it
 * from the inbox instead of decrypting a second time (which the ratchet would refuse).
 *
 * Who sent it comes from the sender certificate (validated against the trust roots of the
 * sender's homeserver) and must match the address the content claims: for a contact already known
 * under that account id, by the stored mapping; for a new one, by the claimed address's
 * key-transparency log, whose identity key must be the certificate's.
 */
export class EnvelopeOpener {
  private seenSinceTrim = 0;

  constructor(
    private readonly store: ClientStore,
    private readonly records: AccountRecords,
    private readonly servers: ServerDirectory,
    private readonly cipher: SealedSessionCipher,
    /** A known contact now sends under another identity key, and the new key is in its KT log. */
    private readonly onIdentityChange: (change: { address: string; previous: string; next: string }) => void = () => undefined,
  ) {}

  /** null: already handled (acknowledge it again). */
  async open(envelope: EnvelopeJson): Promise<ReceivedMessage | null> {
    if ((await this.store.get('seen-envelope', envelope.id)) !== undefined) return null;
    const kept = await this.store.get('inbox', envelope.id);
    if (kept !== undefined) return reviveMessage(kept);
    if (envelope.type !== SEALED_SENDER_ENVELOPE_TYPE)
      throw new RefusedEnvelopeError(`envelope type ${envelope.type} is not sealed sender`);
    return this.store.atomically(async () => {
      const opened = await this.cipher.open(Buffer.from(envelope.content, 'base64'));
      const content = decodeContent(opened.plaintext);
      const server = parseAddress(content.from).server;
      if (!certificateIsValid(opened.certificate, await this.servers.trustRoots(server))) {
        throw new RefusedEnvelopeError(`the sender certificate is not signed by ${server}'s trust root, or expired`);
      }
      if (envelope.source !== undefined && envelope.source !== content.from) {
        throw new RefusedEnvelopeError('the content names another sender than the envelope');
      }
      await this.checkSender(content.from, opened.senderAccountId, opened.senderIdentityKey, opened.senderDevice);
      const message: ReceivedMessage = {
        envelopeId: envelope.id,
        messageId: content.id,
        from: content.from,
        fromDevice: opened.senderDevice,
        body: Buffer.from(content.body, 'base64'),
        text: Buffer.from(content.body, 'base64').toString('utf8'),
        sentAt: content.sentAt,
        serverTimestamp: envelope.serverTimestamp,
        sealed: envelope.source === undefined,
        ...(content.syncTo !== undefined ? { syncTo: content.syncTo } : {}),
      };
      if (content.accessKey !== undefined) {
        const contact = (await this.records.contact(content.from))!;
        if (contact.accessKey !== content.accessKey) await this.records.saveContact({ ...contact, accessKey: content.accessKey });
      }
      await this.store.set('inbox', envelope.id, JSON.stringify({ ...message, body: content.body }));
      return message;
    });
  }

  /** The application has the message: forget it from the inbox and remember the id. */
  async settle(envelopeId: string): Promise<void> {
    await this.store.atomically(async () => {
      await this.store.delete('inbox', envelopeId);
      await this.store.set('seen-envelope', envelopeId, String(Date.now()));
    });
    if (++this.seenSinceTrim >= 500) {
      this.seenSinceTrim = 0;
      await this.trimSeen();
    }
  }

  private async checkSender(address: string, accountId: string, identityKey: string, deviceId: number): Promise<void> {
    const known = await this.records.contactByAccountId(accountId);
    if (known) {
      if (known.address !== address) throw new RefusedEnvelopeError('the certificate belongs to another contact than the content names');
      if (known.identityKey === identityKey) return;
    }
    const kt = await this.servers.keyTransparency(parseAddress(address).server);
    // A device linked moments ago may be logged but not yet covered by a signed head: wait as long as the KT client would.
    const deadline = Date.now() + kt.pendingWaitMsDefault;
    for (;;) {
      const latest = (await kt.verifiedHistory(address)).at(-1)?.record;
      if (latest && latest.identityKey === identityKey && latest.devices.some((d) => d.deviceId === deviceId)) break;
      if (Date.now() >= deadline) throw new RefusedEnvelopeError(`the sender's key or device is not in ${address}'s key-transparency log`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const contact = await this.records.contact(address);
    if (contact?.identityKey !== undefined && contact.identityKey !== identityKey) {
      this.onIdentityChange({ address, previous: contact.identityKey, next: identityKey });
    }
    await this.records.saveContact({
      address,
      accountId,
      identityKey,
      devices: contact?.identityKey === identityKey ? contact.devices : [],
      accessKey: contact?.accessKey,
    });
  }

  private async trimSeen(): Promise<void> {
    const ids = await this.store.keys('seen-envelope');
    if (ids.length <= SEEN_KEEP) return;
    const aged = await Promise.all(ids.map(async (id) => [id, Number(await this.store.get('seen-envelope', id))] as const));
    aged.sort((a, b) => a[1] - b[1]);
    await this.store.atomically(async () => {
      for (const [id] of aged.slice(0, aged.length - SEEN_KEEP)) await this.store.delete('seen-envelope', id);
    });
  }
}

function reviveMessage(text: string): ReceivedMessage {
  const stored = JSON.parse(text) as Omit<ReceivedMessage, 'body'> & { body: string };
  return { ...stored, body: Buffer.from(stored.body, 'base64') };
}
