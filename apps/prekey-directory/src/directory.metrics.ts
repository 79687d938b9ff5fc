import { Injectable } from '@nestjs/common';
import { ServiceMetrics } from '@sealpost/http';
import { TransparencyLog } from './transparency/transparency-log.service';

/** What the directory counts for Prometheus (`GET /metrics`). No label carries an address or key. */
@Injectable()
export class DirectoryMetrics {
  readonly claims;
  readonly exhausted;
  readonly accountChanges;
  readonly ktHeadsSigned;
  readonly ktHeadSignFailures;

  constructor(metrics: ServiceMetrics, log: TransparencyLog) {
    this.claims = metrics.counter(
      'sealpost_directory_bundle_claims_total',
      'Bundle claims answered, for local accounts or through federation',
      ['target'] as const,
    );
    this.exhausted = metrics.counter(
      'sealpost_directory_one_time_keys_exhausted_total',
      'Device bundles handed out without a one-time key of this kind (EC: none; PQ: the last-resort key)',
      ['kind'] as const,
    );
    this.accountChanges = metrics.counter(
      'sealpost_directory_account_changes_total',
      'Registrations, device links and removals, identity-key changes',
      ['change'] as const,
    );
    metrics.gauge('sealpost_kt_tree_size', 'Leaves in the key-transparency log (read at scrape time)', [], async function collect() {
      this.set(await log.treeSize().catch(() => 0));
    });
    this.ktHeadsSigned = metrics.counter(
      'sealpost_kt_heads_signed_total',
      'Tree heads signed by this instance: prompt (the log grew) or epoch (re-signed once per KT_EPOCH_SECONDS)',
      ['reason'] as const,
    );
    this.ktHeadSignFailures = metrics.counter(
      'sealpost_kt_head_sign_failures_total',
      'Attempts to sign a tree head that failed (Postgres unreachable, no key)',
    );
  }
}
