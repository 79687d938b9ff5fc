import type { ServerLocator } from './api/discovery';
import type { OutgoingEnvelope } from './api/homeserver-api';
import type { KtClientOptions } from './key-transparency.client';
import type { OwnerAlert } from './kt-errors';
import type { ReceivedMessage, UndecryptableEnvelope } from './messaging/received-message';
import type { ClientStore } from './store/client-store';

export interface SealpostClientOptions {
  store: ClientStore;
  /** Where server names are found: a map for loopback setups (`{'alpha.test': 'http://127.0.0.1:8101'}`), else `https://{server}`. */
  servers?: Record<string, string> | ServerLocator;
  kt?: KtClientOptions;
  /** One-time keys per kind uploaded at registration and at each replenishment (default 100, the server's maximum per upload). */
  preKeyBatch?: number;
  /** How often the signed prekey and the PQ last-resort key are replaced (default 7 days). */
  rotateRepeatedUseKeysEveryMs?: number;
  /**
   * Send over the relay's WebSockets instead of one HTTP request per message (default false):
   * identified sends on this device's socket while `connect()`ed, sealed sends on an
   * unauthenticated socket opened on the first sealed send; HTTP whenever no socket is at hand.
   * Same answers and errors either way.
   */
  sendOverSocket?: boolean;
}

export interface SendOptions {
  /** Sealed sender when the recipient's access key is known (default true). */
  sealed?: boolean;
  /** A copy to this account's other devices (default true). */
  sync?: boolean;
  urgent?: boolean;
}

export interface SendReport {
  messageId: string;
  /** Devices the message was encrypted to. */
  devices: number[];
  sealed: boolean;
  /** Bytes of each device's sealed envelope. */
  envelopeBytes: number[];
  /** This account's other devices the sync copy went to. */
  syncedDevices: number[];
}

/** A message sealed to every device of `address`, for PUT /v1/messages/{address} (sealed-sender envelopes, either authorisation). */
export interface PreparedSend {
  address: string;
  timestamp: number;
  messages: OutgoingEnvelope[];
}

export interface ClientEvents {
  message: [ReceivedMessage];
  'identity-changed': [{ address: string; previous: string; next: string }];
  'kt-alert': [OwnerAlert];
  undecryptable: [UndecryptableEnvelope];
  'prekeys-replenished': [{ count: number; pqCount: number }];
  connected: [];
  disconnected: [{ code: number; final: boolean }];
  'handler-failed': [{ envelopeId: string }];
  /** A background task (key top-up or rotation, the own-account KT check) failed; it runs again at the next connect or interval. */
  'maintenance-failed': [{ task: 'keys' | 'kt-monitor'; reason: string }];
}
