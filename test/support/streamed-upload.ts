import { request } from 'node:http';

export interface StreamedUploadOutcome {
  /** HTTP status of the answer, or null when the connection ended without one. */
  status: number | null;
  body: unknown;
  /** Body bytes the client had handed to the socket when the answer (or the close) came. */
  bytesSent: number;
  totalBytes: number;
}

/**
 * Sends a request whose body of `totalBytes` (spaces, valid JSON whitespace around `{}`) is written
 * chunk by chunk, waiting for each chunk to drain, and stops writing as soon as the server answers
 * or closes the connection. A server that reads a body before judging the request answers only
 * after `bytesSent === totalBytes`; one that judges the headers first answers long before.
 * `chunked` sends without Content-Length (Transfer-Encoding: chunked).
 */
export function streamedUpload(opts: {
  url: string;
  method: string;
  headers: Record<string, string>;
  totalBytes: number;
  chunkBytes?: number;
  chunked?: boolean;
}): Promise<StreamedUploadOutcome> {
  const chunkBytes = opts.chunkBytes ?? 64 * 1024;
  const chunk = Buffer.alloc(chunkBytes, 0x20);
  return new Promise((resolve) => {
    let bytesSent = 0;
    let stopped = false;
    let settled = false;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
    if (!opts.chunked) headers['content-length'] = String(opts.totalBytes);
    const req = request(opts.url, { method: opts.method, headers });
    const finish = (status: number | null, body: unknown) => {
      if (settled) return;
      settled = true;
      stopped = true;
      req.destroy();
      resolve({ status, body, bytesSent, totalBytes: opts.totalBytes });
    };
    req.on('response', (response) => {
      stopped = true;
      const parts: Buffer[] = [];
      response.on('data', (d: Buffer) => parts.push(d));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: kept as text for the assertion to show
        }
        finish(response.statusCode ?? null, body);
      });
      response.on('error', () => finish(response.statusCode ?? null, null));
    });
    req.on('error', () => finish(null, null));
    req.on('close', () => setTimeout(() => finish(null, null), 1000).unref());
    const pump = () => {
      while (!stopped && bytesSent < opts.totalBytes) {
        const n = Math.min(chunkBytes, opts.totalBytes - bytesSent);
        bytesSent += n;
        if (!req.write(n === chunkBytes ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!stopped) req.end();
    };
    req.flushHeaders();
    pump();
  });
}
