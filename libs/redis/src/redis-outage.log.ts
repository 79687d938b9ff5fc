import type { Logger } from '@nestjs/common';

/**
 * Error listener for a Redis client that reconnects by itself (ioredis, a BullMQ queue or
 * worker): logs the first error of an outage and the recovery once each, and counts every error.
 * Only the error's code (e.g. ECONNREFUSED) is logged — never the URL or a command's arguments.
 */
export class RedisOutageLog {
  private down = false;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly countError: () => void,
  ) {}

  /** For `.on('error', …)`. */
  readonly error = (error: unknown): void => {
    this.countError();
    if (this.down) return;
    this.down = true;
    const cause = error as { code?: string; name?: string } | null;
    this.logger.warn(`${this.what}: Redis unreachable (${cause?.code ?? cause?.name ?? 'error'}); retrying`);
  };

  /** For `.on('ready', …)`: a reconnection after an outage. */
  readonly ready = (): void => {
    if (!this.down) return;
    this.down = false;
    this.logger.log(`${this.what}: Redis reachable again`);
  };
}
