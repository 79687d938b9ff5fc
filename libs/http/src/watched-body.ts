import { Transform, TransformCallback } from 'node:stream';

/**
 * A request body on its way to Fastify's parser, passed through unchanged but watched: in every
 * `windowMs` from the end of the headers at least `minBytesPerWindow` bytes (at least 1) must
 * arrive, else the stream fails with `stalled(bytesInWindow)` — so a body that stops, or that
 * trickles a byte now and then, is ended after one window instead of holding its connection and
 * its share of the body budget until the request timeout. Each chunk is first offered to `admit`
 * (total bytes so far), which may fail the stream with the error it returns. The watch stops when
 * the body ends, the stream is destroyed, or `settle` is called (the request was answered).
 */
export class WatchedBody extends Transform {
  private received = 0;
  private receivedInWindow = 0;
  private readonly idle: NodeJS.Timeout;

  constructor(
    windowMs: number,
    minBytesPerWindow: number,
    private readonly stalled: (bytesInWindow: number) => Error,
    private readonly admit: (chunkBytes: number, totalBytes: number) => Error | undefined = () => undefined,
  ) {
    super();
    const needed = Math.max(1, minBytesPerWindow);
    this.idle = setInterval(() => {
      if (this.receivedInWindow < needed) this.destroy(this.stalled(this.receivedInWindow));
      this.receivedInWindow = 0;
    }, windowMs);
  }

  /** Stops watching for a stall (the request has been answered or its body parsed). */
  settle(): void {
    clearInterval(this.idle);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedInWindow += chunk.length;
    this.received += chunk.length;
    const refusal = this.admit(chunk.length, this.received);
    if (refusal) {
      clearInterval(this.idle);
      callback(refusal);
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    clearInterval(this.idle);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.idle);
    callback(error);
  }
}
