import type {
  BundleResponse,
  DeviceListResponse,
  LinkCodeResponse,
  LinkDeviceResponse,
  PreKeyCountResponse,
  PreKeyJson,
  RegisterAccountResponse,
  SendMessagesResponse,
  SignedKeyJson,
} from '@sealpost/contracts';
import { apiErrorOf } from './api-errors';
import type { HomeserverInfo } from './discovery';

export interface DeviceKeyUpload {
  registrationId: number;
  signedPreKey: SignedKeyJson;
  pqLastResortPreKey: SignedKeyJson;
  preKeys?: PreKeyJson[];
  pqPreKeys?: SignedKeyJson[];
}

export interface RegisterRequest extends DeviceKeyUpload {
  localpart: string;
  registrationToken?: string;
  identityKey: string;
  unidentifiedAccessKey?: string;
}

export interface OutgoingEnvelope {
  deviceId: number;
  registrationId: number;
  type: number;
  content: string;
}

/** How a send is authorised: as this device (the envelope names it), or sealed with the recipient's access key. */
export type SendAuthorisation = { kind: 'device' } | { kind: 'sealed'; accessKey: string };

/**
 * The homeserver's client API (docs/API.md), one method per call. Every error answer becomes the
 * typed error of its code (api-errors.ts); the bearer token is only ever put in a header.
 */
export class HomeserverApi {
  constructor(
    readonly info: HomeserverInfo,
    private token?: string,
  ) {}

  authenticate(token: string): void {
    this.token = token;
  }

  register(request: RegisterRequest): Promise<RegisterAccountResponse> {
    return this.call('POST', this.info.directory, '/v1/accounts', request, false);
  }

  createLinkCode(): Promise<LinkCodeResponse> {
    return this.call('POST', this.info.directory, '/v1/devices/link-codes', undefined);
  }

  linkDevice(code: string, keys: DeviceKeyUpload): Promise<LinkDeviceResponse> {
    return this.call('POST', this.info.directory, '/v1/devices', { code, ...keys }, false);
  }

  devices(): Promise<DeviceListResponse> {
    return this.call('GET', this.info.directory, '/v1/devices', undefined);
  }

  removeDevice(deviceId: number): Promise<void> {
    return this.call('DELETE', this.info.directory, `/v1/devices/${deviceId}`, undefined);
  }

  uploadKeys(keys: Partial<Omit<DeviceKeyUpload, 'registrationId'>>): Promise<void> {
    return this.call('PUT', this.info.directory, '/v1/keys', keys);
  }

  keyCounts(): Promise<PreKeyCountResponse> {
    return this.call('GET', this.info.directory, '/v1/keys', undefined);
  }

  /** Takes one-time keys of the devices (`*`: all): a key is never handed out twice. */
  claimBundles(address: string, device: number | '*' = '*'): Promise<BundleResponse> {
    return this.call('GET', this.info.directory, `/v1/keys/${encodeURIComponent(address)}/${device}`, undefined);
  }

  senderCertificate(): Promise<{ certificate: string; expiresAt: string }> {
    return this.call('GET', this.info.directory, '/v1/certificate/delivery', undefined);
  }

  send(
    address: string,
    message: { timestamp: number; urgent?: boolean; messages: OutgoingEnvelope[] },
    authorisation: SendAuthorisation,
    idempotencyKey?: string,
  ): Promise<SendMessagesResponse> {
    const headers: Record<string, string> = {};
    if (authorisation.kind === 'sealed') headers['unidentified-access-key'] = authorisation.accessKey;
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    return this.call(
      'PUT',
      this.info.relay,
      `/v1/messages/${encodeURIComponent(address)}`,
      message,
      authorisation.kind === 'device',
      headers,
    );
  }

  /** Hands a sealed provisioning body to the new device's socket: false when no live socket took it (404). */
  async provision(provisioningAddress: string, body: string): Promise<boolean> {
    try {
      await this.call('PUT', this.info.relay, `/v1/provisioning/${encodeURIComponent(provisioningAddress)}`, { body });
      return true;
    } catch (error) {
      if ((error as { status?: number }).status === 404) return false;
      throw error;
    }
  }

  /** A WebSocket URL on the relay (`/v1/websocket`, `/v1/provisioning/websocket`). */
  relaySocketUrl(path: string): string {
    return `${this.info.relay.replace(/^http/i, 'ws')}${path}`;
  }

  get bearer(): string | undefined {
    return this.token;
  }

  private async call<T>(
    method: string,
    base: string,
    path: string,
    body: unknown,
    authenticated = true,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (authenticated) {
      if (!this.token) throw new Error(`${method} ${path} needs a device token: register or link first`);
      headers.authorization = `Bearer ${this.token}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) throw apiErrorOf(response.status, parsed, response.headers.get('retry-after'));
    return parsed as T;
  }
}
