export {
  ValidationError,
  requireObject,
  requireInt,
  requireString,
  requireBase64,
  requireArray,
  requireBool,
  rejectUnknownFields,
  optional,
} from './validation';
export {
  parseAddress,
  formatAddress,
  parseDeviceSelector,
  LOCALPART_PATTERN,
  SERVER_PATTERN,
  MIN_DEVICE_ID,
  MAX_DEVICE_ID,
  MAX_KEY_ID,
  PRIMARY_DEVICE_ID,
} from './address';
export type { Address } from './address';
export {
  parseSignedKey,
  parseOneTimePreKey,
  parseKeyList,
  parseDeviceKeyFields,
  EC_KEY_BYTES,
  KEM_KEY_MAX_BYTES,
  SIGNATURE_BYTES,
} from './prekeys';
export type { OneTimePreKey, SignedKey, PreKeyKind, DeviceKeys } from './prekeys';
export {
  parseRegisterAccountRequest,
  parseLinkDeviceRequest,
  parseUploadKeysRequest,
  parseDeviceIdParam,
  parseChangeIdentityKeyRequest,
  MAX_REGISTRATION_ID,
  UNIDENTIFIED_ACCESS_KEY_BYTES,
} from './directory-api';
export type {
  RegisterAccountRequest,
  RegisterAccountResponse,
  LinkDeviceRequest,
  LinkDeviceResponse,
  LinkCodeResponse,
  UploadKeysRequest,
  DeviceListResponse,
  PreKeyCountResponse,
  BundleResponse,
  BundleDeviceJson,
  SignedKeyJson,
  PreKeyJson,
  ChangeIdentityKeyRequest,
  ChangeIdentityKeyResponse,
  DeviceIdentityKeys,
} from './directory-api';
export { DirectoryPattern, DirectoryEvent, isBusError, deviceListGenerationKey } from './directory-bus';
export type {
  DeviceListRequest,
  DeviceListReply,
  AuthenticateRequest,
  AuthenticatedDevice,
  ClaimBundlesRequest,
  ClaimBundlesReply,
  BusError,
  PrekeysLowEvent,
  DeviceRemovedEvent,
  SealedSenderTrustRootsReply,
} from './directory-bus';
export { parseSendMessagesRequest, parseAckFrame, ackFrameOf, MAX_ACK_IDS } from './relay-api';
export type {
  OutgoingMessage,
  SendMessagesRequest,
  SendMessagesResponse,
  EnvelopeJson,
  MismatchedDevicesBody,
  StaleDevicesBody,
  AckFrame,
} from './relay-api';
export {
  parseIdempotencyKey,
  parseSendFrameFields,
  usableRequestId,
  MAX_REQUEST_ID_CHARS,
  SEND_FRAME_MAX_BYTES,
} from './socket-send-frames';
export type { SendFrame, SendResultFrame } from './socket-send-frames';
export {
  parseProvisioningAddress,
  parseProvisioningMessageRequest,
  PROVISIONING_ADDRESS_BYTES,
  PROVISIONING_ADDRESS_PATTERN,
} from './provisioning-api';
export type { ProvisioningAddressFrame, ProvisioningMessageFrame } from './provisioning-api';
export { QueueName, JobName, bullPrefix } from './jobs';
export type { JobPayloads, JobOf } from './jobs';
export { parseRemoteDelivery, parseDeliveryBatch, MAX_DELIVERIES_PER_REQUEST, FEDERATION_MAX_CONTENT_BYTES } from './federation-api';
export type { RemoteDelivery, DeliveryResult } from './federation-api';
export { FederationPattern, RelayPattern } from './federation-bus';
export type {
  OutboundDeliveryRequest,
  InboundDeliveryRequest,
  DeliveryReply,
  DeliveryNoticeRequest,
  VetDestinationRequest,
  VetDestinationReply,
} from './federation-bus';
export type { DiscoveryDocument } from './discovery-api';
