import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ServerSecret } from './server-secret';

const FORMAT_V1 = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Small values sealed for storage (AES-256-GCM, node:crypto: native, no `sodium.ready` needed),
 * under a key derived from the server secret for one `purpose`. Layout: version byte ‖ 12-byte
 * random nonce ‖ ciphertext ‖ 16-byte tag. `context` is bound as associated data (e.g. the
 * owning row's unique name), so a sealed value copied into another row does not open there.
 * A database backup without KEYS_DIR holds only ciphertext.
 */
export class AtRestCipher {
  private readonly key: Buffer;

  constructor(secret: ServerSecret, purpose: string) {
    this.key = secret.deriveKey(`at-rest/${purpose}`);
  }

  seal(plaintext: Buffer, context: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_V1), nonce, body, cipher.getAuthTag()]);
  }

  /** The plaintext, or null when `sealed` is malformed, tampered, for another context or another secret. */
  open(sealed: Buffer, context: string): Buffer | null {
    if (sealed.length < 1 + NONCE_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) return null;
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      return null;
    }
  }
}
