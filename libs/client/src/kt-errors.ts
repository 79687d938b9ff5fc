/** Why the client refused what the directory served. */
export type KtFailureKind =
  | 'bad-head-signature'
  | 'inconsistent-head'
  | 'bad-inclusion-proof'
  | 'not-in-log'
  | 'ghost-device'
  | 'identity-key-mismatch'
  /**
   * Not a refusal yet: the directory shows the record logged, but no signed head covers it so far
   * (it was appended moments ago). Retry after `retryAfterMs`; past the client's `maxPendingMs`
   * the same answer becomes `ghost-device` / `not-in-log` / `identity-key-mismatch`.
   */
  | 'record-pending';

export class KtVerificationError extends Error {
  constructor(
    readonly kind: KtFailureKind,
    message: string,
    readonly retryAfterMs?: number,
  ) {
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
