import type * as Signal from '@signalapp/libsignal-client';
import { libsignal } from '@sealpost/crypto';
import type { SignalProtocolStores } from './protocol-stores';

/** Signal's envelope type for a sealed-sender envelope (DESIGN §4). */
export const SEALED_SENDER_ENVELOPE_TYPE = 6;
const bytes = (data: Uint8Array) => Uint8Array.from(data) as Uint8Array<ArrayBuffer>;

/** A decrypted envelope: who sent it (from the sender certificate) and the plaintext. */
export interface OpenedEnvelope {
  senderAccountId: string;
  senderDevice: number;
  senderIdentityKey: string;
  certificate: Signal.SenderCertificate;
  plaintext: Uint8Array;
}

/**
 * Every envelope this SDK makes is a Double Ratchet message (PQXDH at the start of a session)
 * wrapped in sealed sender v2 addressed to one device, whether the send is then authorised as
 * the device or with the recipient's access key: so the recipient always learns the sender from
 * a certificate its homeserver's trust root signed, never from the server's say-so.
 */
export class SealedSessionCipher {
  constructor(
    private readonly stores: SignalProtocolStores,
    private readonly local: { accountId: string; deviceId: number },
  ) {}

  /** Starts a session with a device from a claimed (and already verified) bundle. */
  async startSession(accountId: string, bundle: Signal.PreKeyBundle): Promise<void> {
    const L = libsignal();
    await L.processPreKeyBundle(
      bundle,
      L.ProtocolAddress.new(accountId, bundle.deviceId()),
      this.localAddress(),
      this.stores.sessions,
      this.stores.identity,
    );
  }

  /** Encrypts for one device and seals it with `certificate`: the envelope `content`. */
  async seal(accountId: string, deviceId: number, plaintext: Uint8Array, certificate: Signal.SenderCertificate): Promise<Uint8Array> {
    const L = libsignal();
    const address = L.ProtocolAddress.new(accountId, deviceId);
    const ciphertext = await L.signalEncrypt(bytes(plaintext), address, this.localAddress(), this.stores.sessions, this.stores.identity);
    const content = L.UnidentifiedSenderMessageContent.new(ciphertext, certificate, L.ContentHint.Default, null);
    const sent = await L.sealedSenderMultiRecipientEncrypt({
      content,
      recipients: [address],
      identityStore: this.stores.identity,
      sessionStore: this.stores.sessions,
    });
    return L.sealedSenderMultiRecipientMessageForSingleRecipient(sent);
  }

  /** Opens an envelope's content. The caller validates the certificate against the sender's homeserver's trust roots. */
  async open(content: Uint8Array): Promise<OpenedEnvelope> {
    const L = libsignal();
    const usmc = await L.sealedSenderDecryptToUsmc(bytes(content), this.stores.identity);
    const certificate = usmc.senderCertificate();
    const sender = L.ProtocolAddress.new(certificate.senderUuid(), certificate.senderDeviceId());
    let plaintext: Uint8Array;
    if (usmc.msgType() === L.CiphertextMessageType.PreKey) {
      plaintext = await L.signalDecryptPreKey(
        L.PreKeySignalMessage.deserialize(usmc.contents()),
        sender,
        this.localAddress(),
        this.stores.sessions,
        this.stores.identity,
        this.stores.preKeys,
        this.stores.signedPreKeys,
        this.stores.kyberPreKeys,
      );
    } else if (usmc.msgType() === L.CiphertextMessageType.Whisper) {
      plaintext = await L.signalDecrypt(
        L.SignalMessage.deserialize(usmc.contents()),
        sender,
        this.localAddress(),
        this.stores.sessions,
        this.stores.identity,
      );
    } else {
      throw new Error(`unsupported inner message type ${usmc.msgType()}`);
    }
    return {
      senderAccountId: certificate.senderUuid(),
      senderDevice: certificate.senderDeviceId(),
      senderIdentityKey: Buffer.from(certificate.key().serialize()).toString('base64'),
      certificate,
      plaintext,
    };
  }

  private localAddress(): Signal.ProtocolAddress {
    return libsignal().ProtocolAddress.new(this.local.accountId, this.local.deviceId);
  }
}

/** Whether `certificate` was signed (through a server certificate) by one of `trustRoots` (base64) and is not expired. */
export function certificateIsValid(certificate: Signal.SenderCertificate, trustRoots: string[], now = Date.now()): boolean {
  const L = libsignal();
  const roots = trustRoots.map((root) => L.PublicKey.deserialize(bytes(Buffer.from(root, 'base64'))));
  return roots.length > 0 && certificate.validateWithTrustRoots(roots, now);
}
