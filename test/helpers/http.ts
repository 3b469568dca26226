/** Small HTTP helpers for tests that talk to an engine the way a client would. */
import { gzipSync } from 'node:zlib';
import { request } from 'undici';

/** A response with its parsed JSON body and headers. */
export interface JsonResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: T;
}

/** POSTs `body` (an object → JSON, or raw bytes/string) and parses the JSON answer. */
export async function post<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  options: { headers?: Record<string, string>; gzip?: boolean; raw?: boolean } = {},
): Promise<JsonResponse<T>> {
  let payload: Buffer = options.raw ? Buffer.from(body as string | Buffer) : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  const response = await request(url, { method: 'POST', body: payload, headers });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: (text === '' ? {} : JSON.parse(text)) as T };
}
