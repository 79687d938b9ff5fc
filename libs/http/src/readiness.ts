import { Provider, Type } from '@nestjs/common';

/**
 * One thing a service needs before it can serve, beyond Postgres and Redis (which every
 * service's /healthz checks): e.g. the relay's round trip to the directory over the bus.
 * `ready()` resolves when it is; it rejects, or takes longer than the health bound, when not.
 */
export interface ReadinessCheck {
  readonly name: string;
  ready(): Promise<unknown>;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export interface HealthOptions {
  /** Each check is given at most this long (HEALTH_CHECK_TIMEOUT_MS); then it counts as failed. */
  timeoutMs: number;
  checks: ReadinessCheck[];
}

/** The provider HealthController reads: the health bound, and the service's own readiness checks (providers). */
export function healthOptionsProvider(timeoutMs: number, checks: Type<ReadinessCheck>[] = []): Provider {
  return {
    provide: HEALTH_OPTIONS,
    inject: checks,
    useFactory: (...instances: ReadinessCheck[]): HealthOptions => ({ timeoutMs, checks: instances }),
  };
}

/** Resolves with `work`, or rejects once `ms` have passed (the work itself is left to finish or fail). */
export function withinMs<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'HEALTH_CHECK_TIMEOUT' })),
      ms,
    );
  });
  // A late rejection of `work` after the bound must not become an unhandled rejection.
  void work.catch(() => undefined);
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
