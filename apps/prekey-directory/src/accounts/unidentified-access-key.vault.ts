import { Inject, Injectable, Logger } from '@nestjs/common';
import { AtRestCipher, ServerSecret } from '@sealpost/crypto';

/**
 * Unidentified-access keys as the directory stores them: sealed (AES-256-GCM) under a key derived
 * from the server secret in KEYS_DIR and bound to the account's localpart, so a Postgres dump or
 * backup without KEYS_DIR cannot pass the sealed-sender check, and a sealed key copied into
 * another account's row does not open there.
 *
 * Why sealed and not a keyed hash: DESIGN §8's multi-recipient sealed sender presents the XOR of
 * the recipients' raw keys, which only raw keys can check (docs/ARCHITECTURE.md, "Secrets at rest").
 */
@Injectable()
export class UnidentifiedAccessKeyVault {
  private readonly logger = new Logger('UnidentifiedAccessKeyVault');
  private readonly cipher: AtRestCipher;
  private warnedUnopenable = false;

  constructor(@Inject(ServerSecret) secret: ServerSecret) {
    this.cipher = new AtRestCipher(secret, 'unidentified-access-key/v1');
  }

  seal(localpart: string, key: Buffer): Buffer {
    return this.cipher.seal(key, localpart);
  }

  /** The raw key, or null when there is none or it does not open with this server secret. */
  open(localpart: string, sealed: Buffer | null): Buffer | null {
    if (!sealed) return null;
    const key = this.cipher.open(sealed, localpart);
    if (!key && !this.warnedUnopenable) {
      this.warnedUnopenable = true;
      this.logger.warn(
        'a stored unidentified-access key does not open with the server secret in KEYS_DIR (was KEYS_DIR replaced?); sealed sends to such accounts are refused',
      );
    }
    return key;
  }
}
