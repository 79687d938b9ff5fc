export { KeyTransparencyClient } from './key-transparency.client';
export type {
  FetchJson,
  KtDirectory,
  VerifiedRecord,
  BundleToCheck,
  BundleCheck,
  HistoryView,
  KtClientOptions,
} from './key-transparency.client';
export type { PendingRecord } from './pending-records';
export { OwnerMonitor } from './owner-monitor';
export type { OwnerCheck } from './owner-monitor';
export { KtVerificationError } from './kt-errors';
export type { KtFailureKind, OwnerAlert } from './kt-errors';
export { MemoryKtStateStore } from './kt-state.store';
export { FileKtStateStore } from './file-kt-state.store';
export type { KtStateStore, PendingMark } from './kt-state.store';
