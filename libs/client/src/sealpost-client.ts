import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type * as Signal from '@signalapp/libsignal-client';
import type { EnvelopeJson } from '@sealpost/contracts';
import { parseAddress } from '@sealpost/contracts';
import { libsignal } from '@sealpost/crypto';
import { HomeserverInfo, ServerLocator, discoverHomeserver, serverLocator } from './api/discovery';
import { HomeserverApi } from './api/homeserver-api';
import { UnidentifiedSendSocket } from './api/unidentified-send-socket';
import { ServerDirectory } from './api/server-directory';
import { KtVerificationError } from './kt-errors';
import { EnvelopeOpener } from './messaging/envelope-opener';
import { MessageReceiver } from './messaging/message-receiver';
import type { ReceivedMessage } from './messaging/received-message';
import { RecipientSessions } from './messaging/recipient-sessions';
import { OwnerMonitor } from './owner-monitor';
import type { OwnerAlert } from './kt-errors';
import { PreKeyGenerator, PREKEY_BATCH, PREKEY_LOW_WATER, newRegistrationId } from './signal/prekey-generator';
import { SignalProtocolStores } from './signal/protocol-stores';
import { SealedSessionCipher } from './signal/sealed-session-cipher';
import { AccountRecords, AccountState } from './store/account-state';
import type { ClientEvents, PreparedSend, SealpostClientOptions, SendOptions, SendReport } from './client-types';
import { MessageSender } from './messaging/message-sender';
import { SocketFirstTransport } from './messaging/send-transport';
import type { ClientStore } from './store/client-store';
import { formatLinkCode, openProvisioning, parseLinkCode, sealProvisioning } from './provisioning/link-code';
import { ProvisioningSocket } from './provisioning/provisioning-socket';

const DEFAULT_ROTATION_MS = 7 * 24 * 3_600_000;
/** How long `approveLink` watches for the new device to appear, to trust it. */
const LINK_APPEAR_WAIT_MS = 30_000;
/** While connected, due key rotations and the own-account KT check run this often. */
const MAINTENANCE_INTERVAL_MS = 3_600_000;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * A Sealpost device: registers or links, keeps its prekeys stocked and rotated, sends to
 * addresses (sealed sender by default, key transparency checked before the first encryption to
 * any key) and receives over its WebSocket, acknowledging a message only after the application's
 * handler resolved. All message cryptography is libsignal's. Secrets stay in the store.
 */
export class SealpostClient extends EventEmitter<ClientEvents> {
  private certificate?: { value: Signal.SenderCertificate; expiresAt: number };
  private receiver?: MessageReceiver;
  private maintenance?: NodeJS.Timeout;
  private handler: (message: ReceivedMessage) => Promise<void> | void = () => undefined;
  private readonly generator: PreKeyGenerator;
  private readonly sessions: RecipientSessions;
  private readonly opener: EnvelopeOpener;
  private readonly cipher: SealedSessionCipher;
  private readonly protocol: SignalProtocolStores;
  private readonly sender: MessageSender;
  private readonly unidentifiedSocket?: UnidentifiedSendSocket;

  private constructor(
    readonly account: AccountState,
    readonly api: HomeserverApi,
    private readonly store: ClientStore,
    private readonly records: AccountRecords,
    private readonly servers: ServerDirectory,
    private readonly options: SealpostClientOptions,
  ) {
    super();
    const L = libsignal();
    this.protocol = new SignalProtocolStores(store, account, () => undefined);
    this.cipher = new SealedSessionCipher(this.protocol, account);
    this.generator = new PreKeyGenerator(
      L.IdentityKeyPair.deserialize(Buffer.from(account.identityKeyPair, 'base64')),
      this.protocol,
      records,
    );
    this.sessions = new RecipientSessions(api, servers, this.protocol, this.cipher, records, account, (change) =>
      this.emit('identity-changed', change),
    );
    if (options.sendOverSocket) this.unidentifiedSocket = new UnidentifiedSendSocket(api.relaySocketUrl('/v1/websocket/unidentified'));
    const transport = this.unidentifiedSocket
      ? new SocketFirstTransport(api, () => this.receiver?.sendChannel, this.unidentifiedSocket)
      : api;
    this.sender = new MessageSender(account, api, store, records, this.sessions, this.cipher, transport);
    this.opener = new EnvelopeOpener(store, records, servers, this.cipher, (change) => this.emit('identity-changed', change));
  }

  // ---- becoming a device ----

  /** Registers a new account (`localpart@server`); `server` is a base URL, a server name or an address on it. */
  static async register(
    options: SealpostClientOptions & { server: string; localpart: string; registrationToken?: string },
  ): Promise<SealpostClient> {
    const records = new AccountRecords(options.store);
    if (await records.account()) throw new Error('this client state already holds an account');
    const info = await discoverHomeserver(options.server, locatorOf(options));
    const identity = libsignal().IdentityKeyPair.generate();
    const accessKey = randomBytes(16).toString('base64');
    const draft = { identityKeyPair: b64(identity.serialize()), registrationId: newRegistrationId() };
    const protocol = new SignalProtocolStores(options.store, draft, () => undefined);
    const api = new HomeserverApi(info);
    return options.store.atomically(async () => {
      const keys = await new PreKeyGenerator(identity, protocol, records).deviceUpload(options.preKeyBatch ?? PREKEY_BATCH);
      const answer = await api.register({
        localpart: options.localpart,
        registrationToken: options.registrationToken,
        identityKey: b64(identity.publicKey.serialize()),
        unidentifiedAccessKey: accessKey,
        ...keys,
      });
      const account: AccountState = {
        address: answer.address,
        accountId: answer.accountId,
        deviceId: answer.deviceId,
        token: answer.token,
        baseUrl: info.baseUrl,
        ...draft,
        accessKey,
      };
      await records.saveAccount(account);
      await records.setCounter('own-device:1', draft.registrationId);
      return SealpostClient.assemble(account, info, options);
    });
  }

  /**
   * Makes this (new, empty) store a linked device of an existing account: shows `onLinkCode`'s
   * text to the user, waits until one of the account's devices approves it (`approveLink`), and
   * links with the identity and code it sealed to this device's ephemeral key. The server only
   * relays the sealed body.
   */
  static async link(options: SealpostClientOptions & { server: string; onLinkCode: (code: string) => void }): Promise<SealpostClient> {
    const records = new AccountRecords(options.store);
    if (await records.account()) throw new Error('this client state already holds an account');
    const info = await discoverHomeserver(options.server, locatorOf(options));
    const api = new HomeserverApi(info);
    const ephemeral = libsignal().PrivateKey.generate();
    const socket = await ProvisioningSocket.open(api.relaySocketUrl('/v1/provisioning/websocket'));
    let payload;
    try {
      options.onLinkCode(
        formatLinkCode({
          server: info.server,
          provisioningAddress: socket.provisioningAddress,
          publicKey: ephemeral.getPublicKey().serialize(),
        }),
      );
      payload = openProvisioning(await socket.nextMessage(), ephemeral);
    } finally {
      socket.close();
    }
    const identity = libsignal().IdentityKeyPair.deserialize(Buffer.from(payload.identityKeyPair, 'base64'));
    const draft = { identityKeyPair: payload.identityKeyPair, registrationId: newRegistrationId() };
    const protocol = new SignalProtocolStores(options.store, draft, () => undefined);
    return options.store.atomically(async () => {
      const keys = await new PreKeyGenerator(identity, protocol, records).deviceUpload(options.preKeyBatch ?? PREKEY_BATCH);
      const answer = await api.linkDevice(payload.linkCode, keys);
      const account: AccountState = {
        address: answer.address,
        accountId: payload.accountId,
        deviceId: answer.deviceId,
        token: answer.token,
        baseUrl: info.baseUrl,
        ...draft,
        accessKey: payload.accessKey,
      };
      await records.saveAccount(account);
      await records.setCounter(`own-device:${answer.deviceId}`, draft.registrationId);
      const client = SealpostClient.assemble(account, info, options);
      // The account's devices as of this link were vouched for by the device that sealed the identity to us.
      await client.trustOwnDevices();
      return client;
    });
  }

  /** Opens the device kept in the store (after a restart). */
  static async open(options: SealpostClientOptions): Promise<SealpostClient> {
    const account = await new AccountRecords(options.store).requireAccount();
    const info = await discoverHomeserver(account.baseUrl, locatorOf(options));
    return SealpostClient.assemble(account, info, options);
  }

  private static assemble(account: AccountState, info: HomeserverInfo, options: SealpostClientOptions): SealpostClient {
    const servers = new ServerDirectory(options.store, locatorOf(options), options.kt);
    servers.remember(info);
    return new SealpostClient(
      account,
      new HomeserverApi(info, account.token),
      options.store,
      new AccountRecords(options.store),
      servers,
      options,
    );
  }

  /** The primary (or any) device approves a link code shown by a new device: seals the account's identity and a fresh link code to it. */
  async approveLink(linkCodeText: string): Promise<void> {
    const code = parseLinkCode(linkCodeText);
    if (code.server !== this.api.info.server)
      throw new Error(`the new device is on ${code.server}, this account on ${this.api.info.server}`);
    const { code: linkCode } = await this.api.createLinkCode();
    const body = sealProvisioning(
      {
        address: this.account.address,
        accountId: this.account.accountId,
        identityKeyPair: this.account.identityKeyPair,
        linkCode,
        accessKey: this.account.accessKey,
      },
      code.publicKey,
    );
    const before = new Set((await this.api.devices()).devices.map((d) => d.deviceId));
    if (!(await this.api.provision(code.provisioningAddress, body))) {
      throw new Error('no device is waiting under that link code any more (it expired or was used): start the link again');
    }
    // The device this approval created is this user's own: trust it once it appears, so the KT monitor does not alert on it.
    const deadline = Date.now() + LINK_APPEAR_WAIT_MS;
    while (Date.now() < deadline) {
      const added = (await this.api.devices()).devices.filter((d) => !before.has(d.deviceId));
      if (added.length > 0) {
        for (const device of added) await this.records.setCounter(`own-device:${device.deviceId}`, device.registrationId);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  // ---- sending ----

  /** Sends `body` to every device of `address` (and a sync copy to this account's other devices). */
  send(address: string, body: string | Uint8Array, options: SendOptions = {}): Promise<SendReport> {
    return this.sender.send(address, body, options);
  }

  /**
   * Encrypts `body` to every device of `address` now (key transparency checked as for `send`)
   * and returns the request for the caller to send later — a bench's pre-sealed pool. Each call
   * advances the sessions like a send; nothing is sent and no sync copy is made.
   */
  prepareSend(address: string, body: string | Uint8Array): Promise<PreparedSend> {
    return this.sender.prepareSend(address, body);
  }

  // ---- receiving ----

  /**
   * Connects this device's WebSocket and hands each message to `handler`; the envelope is acked
   * only when `handler` resolved (reject to have it again later). Reconnects until `disconnect()`.
   * On every connect the one-time keys are topped up if low and due rotations run.
   */
  async connect(handler: (message: ReceivedMessage) => Promise<void> | void): Promise<void> {
    this.handler = handler;
    this.receiver = new MessageReceiver(this.api.relaySocketUrl('/v1/websocket'), () => this.account.token, {
      envelope: (envelope) => this.receive(envelope),
      notice: async (notice) => {
        if (notice.type === 'prekeys-low') await this.replenishPreKeys();
      },
      connected: async () => {
        this.emit('connected');
        await this.maintain();
      },
      disconnected: (code, final) => this.emit('disconnected', { code, final }),
    });
    await this.receiver.start();
    this.maintenance = setInterval(() => void this.maintain(), MAINTENANCE_INTERVAL_MS);
    this.maintenance.unref();
  }

  async disconnect(): Promise<void> {
    clearInterval(this.maintenance);
    await this.receiver?.stop();
    this.receiver = undefined;
  }

  /** Keys topped up and rotated when due, and this account's own KT history checked (alerts become `kt-alert` events). */
  private async maintain(): Promise<void> {
    await this.maintainKeys().catch((error: unknown) => this.emit('maintenance-failed', { task: 'keys', reason: reasonOf(error) }));
    await this.monitorOwnAccount().catch((error: unknown) =>
      this.emit('maintenance-failed', { task: 'kt-monitor', reason: reasonOf(error) }),
    );
  }

  /**
   * Opens one envelope that the caller received on a socket it holds itself (a tool such as the
   * load tester's `--verify`, which keeps thousands of sockets without a client each): decrypted,
   * the sender checked as for `connect`, remembered as handled — also when it cannot be read (it
   * throws then, once: as `connect` reports it undecryptable and acks it). Null when it was
   * handled already. Acknowledging it on the socket is the caller's job.
   */
  async openEnvelope(envelope: EnvelopeJson): Promise<ReceivedMessage | null> {
    try {
      return await this.opener.open(envelope);
    } finally {
      await this.opener.settle(envelope.id);
    }
  }

  private async receive(envelope: EnvelopeJson): Promise<void> {
    let message: ReceivedMessage | null;
    try {
      message = await this.opener.open(envelope);
    } catch (error) {
      // Acked and reported: an envelope that cannot be read must not come back forever.
      this.emit('undecryptable', { envelopeId: envelope.id, source: envelope.source, reason: reasonOf(error) });
      await this.opener.settle(envelope.id);
      return;
    }
    if (message === null) return;
    try {
      await this.handler(message);
    } catch (error) {
      this.emit('handler-failed', { envelopeId: envelope.id });
      throw error;
    }
    await this.opener.settle(envelope.id);
    this.emit('message', message);
  }

  // ---- keys ----

  async keyCounts(): Promise<{ count: number; pqCount: number }> {
    return this.api.keyCounts();
  }

  /** Uploads a fresh batch of one-time keys of each kind that is below the low-water mark (or both, with `force`). */
  async replenishPreKeys(force = false): Promise<{ count: number; pqCount: number }> {
    const counts = await this.api.keyCounts();
    const batch = this.options.preKeyBatch ?? PREKEY_BATCH;
    const low = Math.min(PREKEY_LOW_WATER, batch);
    const needEc = force || counts.count < low;
    const needPq = force || counts.pqCount < low;
    if (!needEc && !needPq) return counts;
    await this.store.atomically(async () => {
      await this.api.uploadKeys({
        ...(needEc ? { preKeys: await this.generator.oneTimePreKeys(batch) } : {}),
        ...(needPq ? { pqPreKeys: await this.generator.oneTimeKyberPreKeys(batch) } : {}),
      });
    });
    const after = await this.api.keyCounts();
    this.emit('prekeys-replenished', after);
    return after;
  }

  /** Replaces the signed prekey and the PQ last-resort key (older ones stay in the store for messages already on their way). */
  async rotateRepeatedUseKeys(): Promise<void> {
    await this.store.atomically(async () => {
      await this.api.uploadKeys({
        signedPreKey: await this.generator.signedPreKey(),
        pqLastResortPreKey: await this.generator.kyberPreKey(true),
      });
      await this.records.setCounter('repeated-use-keys-rotated-at', Date.now());
    });
  }

  private async maintainKeys(): Promise<void> {
    await this.replenishPreKeys();
    const rotatedAt = (await this.records.counter('repeated-use-keys-rotated-at')) ?? 0;
    if (Date.now() - rotatedAt >= (this.options.rotateRepeatedUseKeysEveryMs ?? DEFAULT_ROTATION_MS)) await this.rotateRepeatedUseKeys();
  }

  // ---- devices, verification ----

  async devices() {
    return (await this.api.devices()).devices;
  }

  async removeDevice(deviceId: number): Promise<void> {
    await this.api.removeDevice(deviceId);
  }

  /**
   * The safety number with `address` (libsignal's fingerprint of both identity keys) and whether
   * its identity key and devices are in its server's key-transparency log at a verified head.
   */
  async verify(
    address: string,
  ): Promise<{ address: string; safetyNumber: string; identityKey: string; kt: 'verified'; devices: number[] }> {
    const contact = await this.sessions.ensure(address);
    const kt = await this.servers.keyTransparency(parseAddress(address).server);
    await kt.verifyBundle({ address, identityKey: contact.identityKey!, devices: contact.devices });
    const L = libsignal();
    const own = L.IdentityKeyPair.deserialize(Buffer.from(this.account.identityKeyPair, 'base64')).publicKey;
    const fingerprint = L.Fingerprint.new(
      5200,
      2,
      Buffer.from(this.account.address),
      own,
      Buffer.from(address),
      L.PublicKey.deserialize(Buffer.from(contact.identityKey!, 'base64')),
    );
    return {
      address,
      safetyNumber: fingerprint.displayableFingerprint().toString(),
      identityKey: contact.identityKey!,
      kt: 'verified',
      devices: contact.devices.map((d) => d.deviceId),
    };
  }

  /**
   * Checks this account's own key-transparency history: a device or identity key this client
   * did not add itself (or learn of through `trustOwnDevices`) is a `kt-alert` event, and returned.
   */
  async monitorOwnAccount(): Promise<OwnerAlert[]> {
    const kt = await this.servers.keyTransparency(this.api.info.server);
    const known = await this.ownKnownDevices();
    const identityKey = b64(
      libsignal().IdentityKeyPair.deserialize(Buffer.from(this.account.identityKeyPair, 'base64')).publicKey.serialize(),
    );
    const monitor = new OwnerMonitor(kt, this.servers.ktStateStore, this.account.address, { identityKey, devices: known });
    const alerts = await monitor.check((await this.api.devices()).devices);
    for (const alert of alerts) this.emit('kt-alert', alert);
    return alerts;
  }

  /** Accepts the devices the directory lists now as this account's own (after the user confirmed them). */
  async trustOwnDevices(): Promise<void> {
    for (const device of (await this.api.devices()).devices)
      await this.records.setCounter(`own-device:${device.deviceId}`, device.registrationId);
  }

  private async ownKnownDevices(): Promise<{ deviceId: number; registrationId: number }[]> {
    const keys = (await this.store.keys('counter')).filter((k) => k.startsWith('own-device:'));
    return Promise.all(
      keys.map(async (k) => ({ deviceId: Number(k.slice('own-device:'.length)), registrationId: (await this.records.counter(k))! })),
    );
  }

  async close(): Promise<void> {
    await this.disconnect();
    await this.unidentifiedSocket?.close();
    await this.store.close();
  }
}

function locatorOf(options: SealpostClientOptions): ServerLocator {
  return typeof options.servers === 'function' ? options.servers : serverLocator(options.servers ?? {});
}

/** A short reason without content or keys: the error's class and, for our own errors, the message. */
function reasonOf(error: unknown): string {
  if (error instanceof KtVerificationError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 200);
  return 'unknown error';
}
