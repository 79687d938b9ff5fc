/** A message as the application receives it. */
export interface ReceivedMessage {
  /** The server's envelope id (what is acked). */
  envelopeId: string;
  /** The sender's message id: the same on each of the recipient's devices and in the sender's sync copies. */
  messageId: string;
  from: string;
  fromDevice: number;
  body: Uint8Array;
  /** `body` as UTF-8. */
  text: string;
  sentAt: number;
  serverTimestamp: number;
  /** Sent with sealed sender: the server did not learn who sent it. */
  sealed: boolean;
  /** A copy of a message this account sent from another device, to `syncTo`. */
  syncTo?: string;
}

/** Why an envelope could not be read: it is acked (dropped) and reported, never retried forever. */
export interface UndecryptableEnvelope {
  envelopeId: string;
  /** The claimed source of an identified envelope, if any. */
  source?: string;
  reason: string;
}
