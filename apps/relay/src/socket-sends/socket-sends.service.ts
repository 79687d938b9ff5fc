import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { RelayConfig } from '@sealpost/config';
import { SendResultFrame, parseIdempotencyKey, parseSendFrameFields, parseSendMessagesRequest, usableRequestId } from '@sealpost/contracts';
import { PostgresAvailability, isDatabaseUnavailable } from '@sealpost/db';
import { ApiError, FRAMEWORK_ANSWERS, IN_FLIGHT_RETRY_AFTER_SECONDS, RequestsPerClient, errorAnswer, unavailable } from '@sealpost/http';
import { isRedisUnavailable } from '@sealpost/redis';
import { MessageIntake } from '../mailbox/message-intake.service';
import { RemoteSendAdmission } from '../mailbox/remote-send-admission.service';
import { RelayMetrics } from '../relay.metrics';
import { RELAY_CONFIG } from '../relay.tokens';
import { CLOSE_BAD_SEND_FRAME, SendFrameHandler, SendingSocket } from './sending-socket';

/** What a send frame is answered: the status, JSON body and Retry-After (seconds) of the HTTP answer to the same send. */
type SendOutcome = Omit<SendResultFrame, 'type' | 'requestId'>;

const INTERNAL: SendOutcome = { status: 500, body: { error: 'internal', message: 'internal error' } };

/**
 * Sends over the socket (DESIGN §8): each `send` frame goes through what `PUT
 * /v1/messages/{address}` goes through — RemoteSendAdmission, the Idempotency-Key and body
 * validators, MessageIntake with the socket's device as the identified sender (or, on an
 * unidentified socket, no sender and the frame's access key) — and is answered with one
 * `send-result` carrying the status and JSON body HTTP would give, after the same durable commit.
 * Idempotency scopes are MessageIntake's, so a retry over either transport with the same key
 * stores nothing twice. Answers go out as each send finishes, so they may come out of order.
 *
 * Bounds: at most WS_MAX_SENDS_IN_FLIGHT per socket (past it 429 `too_many_requests`, the socket
 * stays open); an unidentified socket's sends also take a slot of their client address's
 * HTTP_MAX_REQUESTS_PER_CLIENT, shared with its HTTP requests (past it the HTTP route's 429).
 */
@Injectable()
export class SocketSends implements SendFrameHandler {
  private readonly logger = new Logger(SocketSends.name);
  private perClient?: RequestsPerClient;

  constructor(
    @Inject(RELAY_CONFIG) private readonly config: RelayConfig,
    private readonly intake: MessageIntake,
    private readonly admission: RemoteSendAdmission,
    private readonly metrics: RelayMetrics,
    @Optional() private readonly postgres?: PostgresAvailability,
  ) {}

  /** The HTTP server's per-address count of requests in flight, which sends on unidentified sockets share. */
  shareRequestsPerClient(perClient: RequestsPerClient): void {
    this.perClient = perClient;
  }

  /** A frame whose `type` is `send`: answered later with one send-result, or at once when refused before any check. */
  take(from: SendingSocket, frame: Record<string, unknown>): void {
    const requestId = usableRequestId(frame.requestId);
    const inFlight = (from.sendsInFlight ??= new Set());
    if (requestId === null || inFlight.has(requestId)) {
      this.metrics.sendFramesRefused.inc({ reason: 'request_id' });
      from.socket.close(
        CLOSE_BAD_SEND_FRAME,
        requestId === null ? 'a send frame needs a requestId of 1..64 characters' : 'this requestId is already in flight on this socket',
      );
      return;
    }
    if (inFlight.size >= this.config.wsMaxSendsInFlight) {
      this.metrics.sendFramesRefused.inc({ reason: 'socket_in_flight' });
      const message = `more than ${this.config.wsMaxSendsInFlight} sends in flight on this socket; wait for their answers`;
      this.answer(from, requestId, {
        status: 429,
        body: { error: 'too_many_requests', message },
        retryAfter: IN_FLIGHT_RETRY_AFTER_SECONDS,
      });
      return;
    }
    let release: (() => void) | null = null;
    if (from.sender === null && this.perClient) {
      release = this.perClient.tryTake(from.clientAddress);
      if (release === null) {
        this.metrics.sendFramesRefused.inc({ reason: 'client_in_flight' });
        this.answer(from, requestId, { status: 429, body: { ...FRAMEWORK_ANSWERS[429] }, retryAfter: IN_FLIGHT_RETRY_AFTER_SECONDS });
        return;
      }
    }
    inFlight.add(requestId);
    void this.outcome(from, frame)
      .then((outcome) => {
        inFlight.delete(requestId);
        release?.();
        this.answer(from, requestId, outcome);
      })
      .catch((error: Error) => this.logger.error(`a socket send's answer could not be sent: ${error.message}`));
  }

  /** The checks of `PUT /v1/messages/{address}`, in its order (MessagesController and its onRequest hook). */
  private async outcome(from: SendingSocket, frame: Record<string, unknown>): Promise<SendOutcome> {
    try {
      const sealed = from.sender === null;
      const { address, unidentifiedAccessKey } = parseSendFrameFields(frame, sealed);
      const sealedRemoteAdmitted = await this.admission.admitEarly(
        address,
        sealed && unidentifiedAccessKey !== undefined,
        from.clientAddress,
      );
      const idempotencyKey = parseIdempotencyKey(frame.idempotencyKey, 'idempotencyKey');
      const request = parseSendMessagesRequest(frame.message, this.config.maxContentBytes, 'message');
      const body = await this.intake.send(address, request, {
        sender: from.sender,
        unidentifiedAccessKey,
        idempotencyKey,
        clientAddress: from.clientAddress,
        sealedRemoteAdmitted,
      });
      return { status: 200, body };
    } catch (error) {
      return this.refusal(error);
    }
  }

  /** The answer ApiErrorFilter would give for `error` (a Postgres or Redis outage is 503 `unavailable`). */
  private refusal(error: unknown): SendOutcome {
    if (isDatabaseUnavailable(error)) {
      this.postgres?.noteUnavailable(error);
      error = unavailable('the database');
    } else if (isRedisUnavailable(error)) {
      error = unavailable('a backing service');
    }
    const answer = errorAnswer(error);
    if (!answer) {
      const unexpected = error as Error;
      this.logger.error(
        `unexpected ${unexpected?.name ?? 'error'} in a socket send: ${unexpected?.message ?? String(error)}`,
        unexpected?.stack,
      );
      return INTERNAL;
    }
    const retryAfter = error instanceof ApiError ? retryAfterOf(error.headers) : undefined;
    return { status: answer.status, body: answer.body, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  }

  private answer(to: SendingSocket, requestId: string, outcome: SendOutcome): void {
    this.metrics.sends.inc({ transport: 'websocket', status: String(outcome.status) });
    // A socket closed meanwhile gets nothing: its client retries with the same Idempotency-Key.
    if (to.socket.readyState !== to.socket.OPEN) return;
    to.socket.send(JSON.stringify({ type: 'send-result', requestId, ...outcome } satisfies SendResultFrame));
  }
}

function retryAfterOf(headers: Record<string, string>): number | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'retry-after' && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}
