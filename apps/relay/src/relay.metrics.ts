import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@sealpost/http';

/** What the relay counts for Prometheus (`GET /metrics`). No label carries an address or content. */
@Injectable()
export class RelayMetrics {
  readonly stored;
  readonly pushed;
  readonly acked;
  readonly acksIgnored;
  readonly sendsRateLimited;
  readonly socketsOverFrameRate;
  readonly expired;
  readonly notices;
  readonly handoffs;
  readonly destinationVerdicts;
  readonly ackDeleteFailures;
  readonly queueErrors;
  readonly provisioningUpgrades;
  readonly provisioningMessages;
  readonly provisioningSocketsClosed;
  readonly sends;
  readonly sendFramesRefused;
  readonly unidentifiedUpgrades;

  constructor(private readonly metrics: ServiceMetrics) {
    this.stored = metrics.counter(
      'sealpost_relay_envelopes_stored_total',
      'Envelopes durably stored (local sends, federated deliveries, server notices)',
    );
    this.pushed = metrics.counter('sealpost_relay_envelopes_pushed_total', 'Envelopes sent on a device socket (again after a reconnect)');
    this.acked = metrics.counter('sealpost_relay_envelopes_acked_total', 'Acknowledged envelopes deleted');
    this.sendsRateLimited = metrics.counter(
      'sealpost_relay_sends_rate_limited_total',
      'Sends refused 429 by a token bucket: send (sender device), pair (sender to recipient), recv (recipient), sealed-remote-src (client address), remote-dest (destination server)',
      ['limit'] as const,
    );
    this.acksIgnored = metrics.counter(
      'sealpost_relay_acks_ignored_total',
      'Acked ids ignored: not sent on that connection, or acked already (no delete is queued for them)',
    );
    this.socketsOverFrameRate = metrics.counter(
      'sealpost_relay_sockets_closed_frame_rate_total',
      'Device and unidentified sockets closed (4429) for sending frames faster than WS_FRAME_RATE_PER_SECOND',
    );
    this.expired = metrics.counter('sealpost_relay_envelopes_expired_total', 'Unacknowledged envelopes deleted by the TTL job');
    this.queueErrors = metrics.counter(
      'sealpost_relay_job_queue_errors_total',
      'Errors on the BullMQ queue/worker Redis connections (the client reconnects by itself)',
      ['queue'] as const,
    );
    this.notices = metrics.counter('sealpost_relay_socket_notices_total', 'Notice frames sent on sockets', ['type'] as const);
    this.handoffs = metrics.counter(
      'sealpost_relay_federation_handoffs_total',
      'Sends handed to the federation gateway: answered, no_gateway (nothing stored), timed_out or gateway_failed (outcome unknown), vet_timed_out (the destination question unanswered; nothing stored)',
      ['outcome'] as const,
    );
    this.destinationVerdicts = metrics.counter(
      'sealpost_relay_remote_destination_verdicts_total',
      'Verdicts on other homeservers as send destinations: accepted or refused (the gateway asked), refused_from_memory (a kept refusal; nothing read or handed over), unasked (the gateway gave none)',
      ['outcome'] as const,
    );
    this.ackDeleteFailures = metrics.counter(
      'sealpost_relay_ack_delete_failures_total',
      'Failed attempts to delete acked envelopes (each is retried until it succeeds)',
    );
    this.provisioningUpgrades = metrics.counter(
      'sealpost_relay_provisioning_upgrades_total',
      'Provisioning socket upgrades (no auth): opened, rate_limited (per client address), full (PROVISIONING_MAX_SOCKETS), unavailable (Redis)',
      ['outcome'] as const,
    );
    this.provisioningMessages = metrics.counter(
      'sealpost_relay_provisioning_messages_total',
      'PUT /v1/provisioning/{address}: delivered (204), not_found (404), rate_limited (429 per device)',
      ['outcome'] as const,
    );
    this.provisioningSocketsClosed = metrics.counter(
      'sealpost_relay_provisioning_sockets_closed_total',
      'Provisioning sockets closed by the server: delivered (1000), expired (4408), frame_rate (4429)',
      ['reason'] as const,
    );
    this.sends = metrics.counter(
      'sealpost_relay_sends_total',
      'Sends answered, by transport (http: PUT /v1/messages/{address}; websocket: send frames on /v1/websocket and /v1/websocket/unidentified) and status',
      ['transport', 'status'] as const,
    );
    this.sendFramesRefused = metrics.counter(
      'sealpost_relay_send_frames_refused_total',
      'Send frames refused before any check: socket_in_flight (429, WS_MAX_SENDS_IN_FLIGHT), client_in_flight (429, HTTP_MAX_REQUESTS_PER_CLIENT, unidentified sockets), request_id (no usable or a duplicate requestId: socket closed 4400)',
      ['reason'] as const,
    );
    this.unidentifiedUpgrades = metrics.counter(
      'sealpost_relay_unidentified_upgrades_total',
      'Unidentified socket upgrades (no auth): opened, rate_limited (per client address), full (UNIDENTIFIED_MAX_SOCKETS), unavailable (Redis)',
      ['outcome'] as const,
    );
  }

  /** Unidentified (sealed-send) sockets this instance holds, read at scrape time. */
  watchUnidentifiedSockets(count: () => number): void {
    this.metrics.gauge(
      'sealpost_relay_unidentified_websockets',
      'Unauthenticated sockets for sealed sends (/v1/websocket/unidentified) held by this instance',
      [],
      function collect() {
        this.set(count());
      },
    );
  }

  /** Provisioning sockets this instance holds (not device sockets), read at scrape time. */
  watchProvisioningSockets(count: () => number): void {
    this.metrics.gauge(
      'sealpost_relay_provisioning_websockets',
      'Provisioning sockets of new devices held by this instance',
      [],
      function collect() {
        this.set(count());
      },
    );
  }

  /** Acked envelopes whose delete has not succeeded yet, read at scrape time. */
  watchAcksAwaitingDelete(count: () => number): void {
    this.metrics.gauge(
      'sealpost_relay_acks_awaiting_delete',
      'Acked envelopes not deleted yet (in flight, or retried while Postgres is unreachable)',
      [],
      function collect() {
        this.set(count());
      },
    );
  }

  /** The sockets this instance holds, read at scrape time. */
  watchSockets(count: () => number): void {
    this.metrics.gauge('sealpost_relay_websockets', 'Authenticated device sockets held by this instance', [], function collect() {
      this.set(count());
    });
  }
}
