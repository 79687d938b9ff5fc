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

// ---- the client SDK ----
export { SealpostClient } from './sealpost-client';
export type { SealpostClientOptions, SendOptions, SendReport, PreparedSend, ClientEvents } from './client-types';
export type { ReceivedMessage, UndecryptableEnvelope } from './messaging/received-message';
export { discoverHomeserver, serverLocator } from './api/discovery';
export type { HomeserverInfo, ServerLocator } from './api/discovery';
export { HomeserverApi } from './api/homeserver-api';
export type { OutgoingEnvelope, SendAuthorisation, DeviceKeyUpload, RegisterRequest } from './api/homeserver-api';
export * as ApiErrors from './api/api-errors';
export { SealpostApiError, apiErrorOf } from './api/api-errors';
export { MemoryClientStore, StagedClientStore } from './store/client-store';
export type { ClientStore, RecordKind } from './store/client-store';
export { FileClientStore } from './store/file-client-store';
export type { AccountState, Contact } from './store/account-state';
export { formatLinkCode, parseLinkCode } from './provisioning/link-code';
export { DeviceKeyMaterial, newDeviceKeys } from './signal/device-key-material';
export type { DeviceKeyOptions, UploadCounts } from './signal/device-key-material';
