/** Why the client refused what the directory served. */
export type KtFailureKind =
  | 'bad-head-signature'
  | 'inconsistent-head'
  | 'bad-inclusion-proof'
  | 'not-in-log'
  | 'ghost-device'
  | 'identity-key-mismatch';

export class KtVerificationError extends Error {
  constructor(readonly kind: KtFailureKind, message: string) {
    super(`${kind}: ${message}`);
    this.name = 'KtVerificationError';
  }
}

/** What an owner's monitor reports about its own account. */
export type OwnerAlert =
  | { kind: 'unknown-device'; version: number; deviceId: number; registrationId: number }
  | { kind: 'identity-key-changed'; version: number; identityKey: string }
  | { kind: 'unlogged-device'; deviceId: number; registrationId: number }
  | { kind: 'broken-history'; version: number; reason: string };
