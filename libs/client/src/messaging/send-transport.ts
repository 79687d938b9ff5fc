import type { SendMessagesResponse } from '@sealpost/contracts';
import { apiErrorOf } from '../api/api-errors';
import type { HomeserverApi, SendAuthorisation } from '../api/homeserver-api';
import { SendFrameChannel, SocketSendAnswer, SocketSendUnanswered } from '../api/send-frame-channel';
import type { UnidentifiedSendSocket } from '../api/unidentified-send-socket';

type Message = Parameters<HomeserverApi['send']>[1];

/** How a send reaches the relay: `PUT /v1/messages/{address}` (HomeserverApi itself), or a send frame. */
export interface SendTransport {
  send(address: string, message: Message, authorisation: SendAuthorisation, idempotencyKey?: string): Promise<SendMessagesResponse>;
}

/**
 * Sends over the relay's sockets when one is at hand (`sendOverSocket`): an identified send as a
 * send frame on the device's own socket while it is connected, a sealed send on the unidentified
 * socket (opened on the first sealed send); HTTP otherwise. The answers are HTTP's (same statuses
 * and bodies, so the same typed errors). A send whose socket closed before it was answered, or
 * that the socket refused before looking at it (429 `too_many_requests`), goes over HTTP with the
 * same Idempotency-Key: both transports share its scope, so it is stored at most once.
 */
export class SocketFirstTransport implements SendTransport {
  constructor(
    private readonly api: HomeserverApi,
    private readonly deviceChannel: () => SendFrameChannel | undefined,
    private readonly unidentified: UnidentifiedSendSocket,
  ) {}

  async send(address: string, message: Message, authorisation: SendAuthorisation, idempotencyKey?: string): Promise<SendMessagesResponse> {
    const channel = authorisation.kind === 'device' ? this.deviceChannel() : await this.unidentified.channel();
    const answer = channel ? await this.overSocket(channel, address, message, authorisation, idempotencyKey) : null;
    if (answer === null) return this.api.send(address, message, authorisation, idempotencyKey);
    if (answer.status === 200) return answer.body as SendMessagesResponse;
    throw apiErrorOf(answer.status, answer.body, answer.retryAfter !== undefined ? String(answer.retryAfter) : null);
  }

  /** The socket's answer; null when the send should go over HTTP instead. */
  private async overSocket(
    channel: SendFrameChannel,
    address: string,
    message: Message,
    authorisation: SendAuthorisation,
    idempotencyKey: string | undefined,
  ): Promise<SocketSendAnswer | null> {
    let answer: SocketSendAnswer;
    try {
      answer = await channel.request({
        address,
        message,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        ...(authorisation.kind === 'sealed' ? { unidentifiedAccessKey: authorisation.accessKey } : {}),
      });
    } catch (error) {
      if (!(error instanceof SocketSendUnanswered)) throw error;
      if (!error.maybeStored || idempotencyKey !== undefined) return null;
      throw apiErrorOf(
        503,
        { error: 'outcome_unknown', message: 'the socket closed before the send was answered; it may have been stored' },
        null,
      );
    }
    const refusedUnread = answer.status === 429 && (answer.body as { error?: unknown } | null)?.error === 'too_many_requests';
    return refusedUnread ? null : answer;
  }
}
