import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RelayConfig } from '@sealpost/config';
import { AuthenticatedDevice, DeviceListReply, SendMessagesRequest, SendMessagesResponse, parseAddress } from '@sealpost/contracts';
import { constantTimeEqual, sha256 } from '@sealpost/crypto';
import { ApiError } from '@sealpost/http';
import { DirectoryClient } from '../directory-client/directory-client.service';
import { DeliveryNotifier } from '../delivery/delivery-notifier.service';
import { RELAY_CONFIG } from '../relay.tokens';
import { EnvelopePersister } from './envelope-persister.service';
import { MessagesStore, NewEnvelope } from './messages-store.repository';
import { SendRateLimiter } from './send-rate-limiter.service';

export interface SendContext {
  sender: AuthenticatedDevice | null;
  /** Base64 of the 16-byte key, from the Unidentified-Access-Key header (sealed sender). */
  unidentifiedAccessKey?: string;
  idempotencyKey?: string;
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
    private readonly store: MessagesStore,
    private readonly notifier: DeliveryNotifier,
  ) {}

  async send(rawAddress: string, request: SendMessagesRequest, context: SendContext): Promise<SendMessagesResponse> {
    const address = parseAddress(rawAddress);
    if (!context.sender && !context.unidentifiedAccessKey) throw sealedRefusal();
    if (address.server !== this.config.serverName) {
      throw new ApiError(404, 'federation_unavailable', `${address.server} is another homeserver and federation is not enabled here`);
    }
    const target = `${address.localpart}@${address.server}`;
    let recipient = await this.directory.deviceList(target);
    if (!context.sender) this.checkUnidentifiedAccess(recipient, context.unidentifiedAccessKey!);
    if (!recipient) throw new ApiError(404, 'not_found', 'no such account');
    if (this.mismatch(recipient, request, context.sender)) {
      recipient = (await this.directory.deviceList(target, true)) ?? recipient;
      this.assertDevicesMatch(recipient, request, context.sender);
    }
    await this.limiter.admit(context.sender, recipient.accountId);
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
    const scope = context.sender ? `device:${context.sender.accountId}:${context.sender.deviceId}` : `sealed:${recipient.accountId}`;
    const result = await this.persister.persist({
      envelopes, response, idempotency: context.idempotencyKey ? { scope, key: context.idempotencyKey } : undefined,
    });
    if (!result.stored) return result.previousResponse as SendMessagesResponse;
    this.notifier.stored(recipient.accountId, envelopes.map((e, i) => ({ ...e, seq: result.seqs[i] })));
    return response;
  }

  private checkUnidentifiedAccess(recipient: DeviceListReply | null, key: string): void {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(key) || !recipient?.unidentifiedAccessKeyHash) throw sealedRefusal();
    const presented = sha256(Buffer.from(key, 'base64'));
    if (!constantTimeEqual(presented, Buffer.from(recipient.unidentifiedAccessKeyHash, 'base64'))) throw sealedRefusal();
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
      throw new ApiError(409, 'mismatched_devices', 'the message list must cover exactly the recipient\'s current devices', { missingDevices, extraDevices });
    }
    const registration = new Map(expected.map((d) => [d.deviceId, d.registrationId]));
    const staleDevices = request.messages.filter((m) => registration.get(m.deviceId) !== m.registrationId).map((m) => m.deviceId).sort((a, b) => a - b);
    if (staleDevices.length) {
      throw new ApiError(410, 'stale_devices', 'some registration ids do not match the recipient\'s current devices', { staleDevices });
    }
  }

  private async assertQueuesNotFull(accountId: string, request: SendMessagesRequest): Promise<void> {
    const depths = await this.store.queueDepths(accountId);
    const full = request.messages.filter((m) => (depths.get(m.deviceId) ?? 0) + 1 > this.config.queueCapPerDevice).map((m) => m.deviceId);
    if (full.length) {
      throw new ApiError(429, 'recipient_queue_full', `the recipient has too many undelivered envelopes (devices ${full.join(', ')}); retry later`, { fullDevices: full }, { 'retry-after': '60' });
    }
  }
}
