/**
 * What goes inside the Double Ratchet: the application's body plus what the recipient's client
 * needs. Only the recipient's devices ever see it (the server holds it sealed).
 */
export interface MessageContent {
  v: 1;
  /** The sender's id of this message (the same on every device and in the sync copy). */
  id: string;
  from: string;
  fromDevice: number;
  sentAt: number;
  /** The application's bytes, base64. */
  body: string;
  /** The sender's unidentified-access key: lets the recipient answer with sealed sender. */
  accessKey?: string;
  /** On a copy for the sender's own other devices: who the message went to. */
  syncTo?: string;
}

const MAX_CONTENT_FIELDS = ['v', 'id', 'from', 'fromDevice', 'sentAt', 'body', 'accessKey', 'syncTo'];

export function encodeContent(content: MessageContent): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(JSON.stringify(content), 'utf8')) as Uint8Array<ArrayBuffer>;
}

/** Parses decrypted bytes; throws on anything that is not this format (the envelope is then reported undecryptable). */
export function decodeContent(bytes: Uint8Array): MessageContent {
  const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<MessageContent>;
  if (
    value?.v !== 1 ||
    typeof value.id !== 'string' ||
    typeof value.from !== 'string' ||
    !Number.isInteger(value.fromDevice) ||
    !Number.isInteger(value.sentAt) ||
    typeof value.body !== 'string' ||
    Object.keys(value).some((k) => !MAX_CONTENT_FIELDS.includes(k))
  ) {
    throw new Error('decrypted content is not a Sealpost message');
  }
  return value as MessageContent;
}
