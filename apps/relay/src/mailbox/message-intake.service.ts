import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RelayConfig } from '@sealpost/config';
import {
  AuthenticatedDevice,
  DeviceListReply,
  RemoteDelivery,
  SendMessagesRequest,
  SendMessagesResponse,
  parseAddress,
} from '@sealpost/contracts';
import { constantTimeEqual, sha256 } from '@sealpost/crypto';
import { ApiError } from '@sealpost/http';
import { DirectoryClient } from '../directory-client/directory-client.service';
import { DeliveryNotifier } from '../delivery/delivery-notifier.service';
import { DestinationVerdicts, refusalError } from '../federation-client/destination-verdicts.service';
import { FederationClient } from '../federation-client/federation-client.service';
import { QueueDepthCache } from './queue-depth.cache';
import { RELAY_CONFIG } from '../relay.tokens';
import { EnvelopePersister } from './envelope-persister.service';
import { NewEnvelope } from './messages-store.repository';
import { SendRateLimiter } from './send-rate-limiter.service';

/** Base64 SHA-256 of a presented Unidentified-Access-Key (16 bytes, base64), or null if malformed. */
function accessKeyHash(key: string | undefined): string | null {
  if (!key || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return null;
  return sha256(Buffer.from(key, 'base64')).toString('base64');
}

export interface SendContext {
  /** The sending device; for envelopes from another homeserver, its address (accountId is `remote:…`). */
  sender: AuthenticatedDevice | null;
  /** Base64 of the 16-byte key, from the Unidentified-Access-Key header (sealed sender). */
  unidentifiedAccessKey?: string;
  /** For deliveries from another homeserver: the SHA-256 of the key its sender presented. */
  unidentifiedAccessKeyHash?: string;
  idempotencyKey?: string;
  /** The client's address (TRUST_PROXY applied): budgets sealed sends, which have no sender. Absent for federated deliveries. */
  clientAddress?: string;
  /** A sealed send to another homeserver whose buckets were taken before its body was read (installRemoteSendAdmission). */
  sealedRemoteAdmitted?: boolean;
}

/** The same answer for an unknown address and a wrong access key, so sealed sends reveal nothing. */
const sealedRefusal = () => new ApiError(401, 'unauthorized', 'a valid device token or unidentified access key is required');

/** `PUT /v1/messages/{address}`: checks, then durable storage, then wake-ups. */
@Injectable()
export class MessageIntake {
  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly directory: DirectoryClient,
    private readonly limiter: SendRateLimiter,
    private readonly persister: EnvelopePersister,
    private readonly notifier: DeliveryNotifier,
    private readonly federation: FederationClient,
    private readonly destinations: DestinationVerdicts,
    private readonly depths: QueueDepthCache,
  ) {}

  async send(rawAddress: string, request: SendMessagesRequest, context: SendContext): Promise<SendMessagesResponse> {
    const address = parseAddress(rawAddress);
    if (!context.sender && !context.unidentifiedAccessKey) throw sealedRefusal();
    const target = `${address.localpart}@${address.server}`;
    if (address.server !== this.config.serverName) return this.sendRemote(target, request, context);
    const scope = context.sender ? `device:${context.sender.accountId}:${context.sender.deviceId}` : null;
    return this.storeForLocal(target, request, context, (recipientAccountId) => scope ?? `sealed:${recipientAccountId}`);
  }

  /** Envelopes from another homeserver (through its gateway and ours), idempotent on the origin's delivery id. */
  async deliverInbound(origin: string, delivery: RemoteDelivery): Promise<SendMessagesResponse> {
    const request: SendMessagesRequest = {
      timestamp: delivery.timestamp,
      urgent: delivery.urgent,
      messages: delivery.messages.map((m) => ({ ...m, content: Buffer.from(m.content, 'base64') })),
    };
    const sender = delivery.source
      ? { accountId: `remote:${delivery.source}`, deviceId: delivery.sourceDevice ?? 1, address: delivery.source }
      : null;
    return this.storeForLocal(
      delivery.address,
      request,
      {
        sender,
        unidentifiedAccessKeyHash: delivery.unidentifiedAccessKeyHash,
        idempotencyKey: delivery.id,
      },
      () => `fed:${origin}`,
    );
  }

  /**
   * A send to a user of another homeserver goes to the gateway: delivered now, or kept in its
   * durable outbox. A destination the gateway refuses is refused before the envelopes are encoded
   * or handed over (DestinationVerdicts).
   */
  private async sendRemote(target: string, request: SendMessagesRequest, context: SendContext): Promise<SendMessagesResponse> {
    const presentedHash = context.sender ? null : accessKeyHash(context.unidentifiedAccessKey);
    if (!context.sender && !presentedHash) throw sealedRefusal();
    const destination = parseAddress(target).server;
    if (context.sender) await this.limiter.admit({ sender: context.sender }, `remote:${target}`);
    else if (!context.sealedRemoteAdmitted) await this.limiter.admitSealedRemote(context.clientAddress, destination);
    await this.destinations.admit(destination);
    const scope = context.sender ? `device:${context.sender.accountId}:${context.sender.deviceId}` : `sealed:${target}`;
    const delivery: RemoteDelivery = {
      id: context.idempotencyKey ? uuidFrom(sha256(`${scope}\n${context.idempotencyKey}`)) : randomUUID(),
      address: target,
      timestamp: request.timestamp,
      urgent: request.urgent,
      messages: request.messages.map((m) => ({
        deviceId: m.deviceId,
        registrationId: m.registrationId,
        type: m.type,
        content: m.content.toString('base64'),
      })),
      ...(context.sender
        ? { source: context.sender.address, sourceDevice: context.sender.deviceId }
        : { unidentifiedAccessKeyHash: presentedHash as string }),
    };
    const reply = await this.federation.deliver(
      {
        destination,
        delivery,
        sender: context.sender ? { accountId: context.sender.accountId, deviceId: context.sender.deviceId } : undefined,
      },
      context.idempotencyKey !== undefined,
    );
    if (reply.status === 200 || reply.status === 202) {
      this.destinations.delivered(destination);
      return { serverTimestamp: Date.now() };
    }
    this.destinations.deliveryRefused(destination, reply);
    // The gateway's own refusals (e.g. 429 outbox_full) carry retryAfter in seconds: passed on as Retry-After.
    throw refusalError(reply, Date.now());
  }

  private async storeForLocal(
    target: string,
    request: SendMessagesRequest,
    context: SendContext,
    idempotencyScope: (recipientAccountId: string) => string,
  ): Promise<SendMessagesResponse> {
    if (context.sender) await this.limiter.admitSender(context.sender);
    let recipient = await this.directory.deviceList(target);
    if (!context.sender)
      this.checkUnidentifiedAccess(recipient, context.unidentifiedAccessKeyHash ?? accessKeyHash(context.unidentifiedAccessKey));
    if (!recipient) throw new ApiError(404, 'not_found', 'no such account');
    if (this.mismatch(recipient, request, context.sender)) {
      recipient = (await this.directory.deviceList(target, true)) ?? recipient;
      this.assertDevicesMatch(recipient, request, context.sender);
    }
    await this.limiter.admitToRecipient({ sender: context.sender, clientAddress: context.clientAddress }, recipient.accountId);
    await this.assertQueuesNotFull(recipient.accountId, request);

    const serverTimestamp = Date.now();
    const envelopes: NewEnvelope[] = request.messages.map((m) => ({
      accountId: recipient!.accountId,
      deviceId: m.deviceId,
      id: randomUUID(),
      type: m.type,
      source: context.sender?.address ?? null,
      sourceDevice: context.sender?.deviceId ?? null,
      clientTimestamp: request.timestamp,
      serverTimestamp,
      content: m.content,
    }));
    const response: SendMessagesResponse = { serverTimestamp };
    const scope = idempotencyScope(recipient.accountId);
    const result = await this.persister.persist({
      envelopes,
      response,
      idempotency: context.idempotencyKey ? { scope, key: context.idempotencyKey } : undefined,
    });
    if (!result.stored) return result.previousResponse as SendMessagesResponse;
    this.depths.stored(
      recipient.accountId,
      envelopes.map((e) => e.deviceId),
    );
    this.notifier.stored(
      recipient.accountId,
      envelopes.map((e, i) => ({ ...e, seq: result.seqs[i] })),
    );
    return response;
  }

  /** `presentedHash`: SHA-256 of the presented key (null when the header was malformed). */
  private checkUnidentifiedAccess(recipient: DeviceListReply | null, presentedHash: string | null): void {
    if (!presentedHash || !recipient?.unidentifiedAccessKeyHash) throw sealedRefusal();
    if (!constantTimeEqual(Buffer.from(presentedHash, 'base64'), Buffer.from(recipient.unidentifiedAccessKeyHash, 'base64')))
      throw sealedRefusal();
  }

  /** The devices a send must cover: all of the recipient's, less the sending device itself. */
  private expectedDevices(recipient: DeviceListReply, sender: AuthenticatedDevice | null) {
    return recipient.devices.filter((d) => !(sender && sender.accountId === recipient.accountId && sender.deviceId === d.deviceId));
  }

  private mismatch(recipient: DeviceListReply, request: SendMessagesRequest, sender: AuthenticatedDevice | null): boolean {
    const expected = this.expectedDevices(recipient, sender);
    if (expected.length !== request.messages.length) return true;
    const byId = new Map(expected.map((d) => [d.deviceId, d.registrationId]));
    return request.messages.some((m) => byId.get(m.deviceId) !== m.registrationId);
  }

  private assertDevicesMatch(recipient: DeviceListReply, request: SendMessagesRequest, sender: AuthenticatedDevice | null): void {
    const expected = this.expectedDevices(recipient, sender);
    const expectedIds = new Set(expected.map((d) => d.deviceId));
    const givenIds = new Set(request.messages.map((m) => m.deviceId));
    const missingDevices = [...expectedIds].filter((id) => !givenIds.has(id)).sort((a, b) => a - b);
    const extraDevices = [...givenIds].filter((id) => !expectedIds.has(id)).sort((a, b) => a - b);
    if (missingDevices.length || extraDevices.length) {
      throw new ApiError(409, 'mismatched_devices', "the message list must cover exactly the recipient's current devices", {
        missingDevices,
        extraDevices,
      });
    }
    const registration = new Map(expected.map((d) => [d.deviceId, d.registrationId]));
    const staleDevices = request.messages
      .filter((m) => registration.get(m.deviceId) !== m.registrationId)
      .map((m) => m.deviceId)
      .sort((a, b) => a - b);
    if (staleDevices.length) {
      throw new ApiError(410, 'stale_devices', "some registration ids do not match the recipient's current devices", { staleDevices });
    }
  }

  private async assertQueuesNotFull(accountId: string, request: SendMessagesRequest): Promise<void> {
    const depths = await this.depths.depthsOf(accountId);
    const full = request.messages.filter((m) => (depths.get(m.deviceId) ?? 0) + 1 > this.config.queueCapPerDevice).map((m) => m.deviceId);
    if (full.length) {
      throw new ApiError(
        429,
        'recipient_queue_full',
        `the recipient has too many undelivered envelopes (devices ${full.join(', ')}); retry later`,
        { fullDevices: full },
        { 'retry-after': '60' },
      );
    }
  }
}

/** A UUID (v4 layout) derived from 16 bytes of a hash: the same idempotent send gets the same delivery id. */
function uuidFrom(hash: Buffer): string {
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
