import { Transform, TransformCallback } from 'node:stream';

/**
 * A request body on its way to Fastify's parser, passed through unchanged but watched: when no
 * byte has come for `idleMs` the stream fails with `stalled()`, and each chunk is first offered to
 * `admit` (total bytes so far), which may fail the stream with the error it returns. The timer
 * starts when the stream is made (the headers have been read) and stops when the body ends, the
 * stream is destroyed, or `settle` is called (the request was answered: a stall no longer matters).
 */
export class WatchedBody extends Transform {
  private received = 0;
  private readonly idle: NodeJS.Timeout;

  constructor(
    idleMs: number,
    private readonly stalled: () => Error,
    private readonly admit: (chunkBytes: number, totalBytes: number) => Error | undefined = () => undefined,
  ) {
    super();
    this.idle = setTimeout(() => this.destroy(this.stalled()), idleMs);
  }

  /** Stops watching for a stall (the request has been answered or its body parsed). */
  settle(): void {
    clearTimeout(this.idle);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.idle.refresh();
    this.received += chunk.length;
    const refusal = this.admit(chunk.length, this.received);
    if (refusal) {
      clearTimeout(this.idle);
      callback(refusal);
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    clearTimeout(this.idle);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idle);
    callback(error);
  }
}
