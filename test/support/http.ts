/** Minimal JSON HTTP for tests: real requests over loopback, answers parsed. */
export interface JsonAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = any>(
  method: string,
  url: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonAnswer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  } else if (options.rawBody !== undefined) {
    headers['content-type'] ??= 'application/json';
  }
  return answerOf<T>(await fetch(url, { method, headers, body }));
}

/** A response as a JsonAnswer: the body parsed as JSON, or left as text. */
export async function answerOf<T = any>(response: Response): Promise<JsonAnswer<T>> {
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // left as text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** GET a JSON document, as the client SDK's FetchJson does: a non-2xx answer throws. */
export async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
