export { KeyTransparencyClient } from './key-transparency.client';
export type { FetchJson, KtDirectory, VerifiedRecord, BundleToCheck } from './key-transparency.client';
export { OwnerMonitor } from './owner-monitor';
export { KtVerificationError } from './kt-errors';
export type { KtFailureKind, OwnerAlert } from './kt-errors';
export { MemoryKtStateStore } from './kt-state.store';
export { FileKtStateStore } from './file-kt-state.store';
export type { KtStateStore } from './kt-state.store';
