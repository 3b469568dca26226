/**
 * The embedded warehouse for several processes on one machine: one process owns the
 * chDB data directory (chDB allows one) and serves it over the part of ClickHouse's
 * HTTP interface that @clickhouse/client speaks, so collector, pipeline and operator
 * processes set QUARTILE_CLICKHOUSE_URL to it as they would to a ClickHouse server.
 *
 * What it speaks (https://clickhouse.com/docs/interfaces/http):
 * - GET /ping → `Ok.`;
 * - the statement is the `query` URL parameter followed by the body (an INSERT's rows
 *   come in the body), or the body alone;
 * - `param_<name>` parameters bind query parameters; other unknown parameters are
 *   settings (insert_deduplication_token…); chdb drops the HTTP-only ones;
 * - an exception answers 500 with `Code: N. DB::Exception: …` and the
 *   X-ClickHouse-Exception-Code header, which the client turns into a ClickHouseError.
 * It listens on 127.0.0.1 only and has no users: it is for one machine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { ChdbSession } from '../open-warehouse.ts';

/** URL parameters that are the protocol's own, not ClickHouse settings. */
const PROTOCOL_PARAMS = new Set(['query', 'query_id', 'database', 'session_id', 'session_timeout', 'session_check', 'user', 'password', 'default_format', 'compress', 'decompress', 'role']);

export interface WarehouseServer {
  readonly url: string;
  close(): Promise<void>;
}

const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', a: '\x07', v: '\v' };

/**
 * A `param_*` value arrives in ClickHouse's escaped text format (the client writes
 * `it\'s` for it's); chDB binds values as they are, so the escapes are undone here.
 */
export function unescapeParam(value: string): string {
  return value.replace(/\\(.)/gs, (_, c: string) => ESCAPES[c] ?? c);
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

function fail(response: ServerResponse, error: unknown): void {
  const code = (error as { clickhouseCode?: number; code?: unknown }).clickhouseCode ?? (typeof (error as { code?: unknown }).code === 'string' && /^\d+$/.test((error as { code: string }).code) ? Number((error as { code: string }).code) : 1001);
  const message = error instanceof Error ? error.message : String(error);
  const text = /^Code: \d+\./.test(message) ? message : `Code: ${code}. DB::Exception: ${message}`;
  if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': String(code) });
  response.end(`${text}\n`);
}

async function handle(session: ChdbSession, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/ping' || (url.pathname === '/' && request.method === 'GET' && !url.searchParams.has('query'))) {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('Ok.\n');
    return;
  }
  const body = (await bodyOf(request)).toString('utf8');
  const head = url.searchParams.get('query');
  const query = head === null ? body : body.length > 0 ? `${head}\n${body}` : head;
  if (query.trim() === '') {
    response.writeHead(400, { 'content-type': 'text/plain' }).end('Code: 62. DB::Exception: Empty query.\n');
    return;
  }
  const queryParams: Record<string, string> = {};
  const settings: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (name.startsWith('param_')) queryParams[name.slice(6)] = unescapeParam(value);
    else if (!PROTOCOL_PARAMS.has(name)) settings[name] = value;
  }
  const queryId = url.searchParams.get('query_id') ?? randomUUID();
  const result = await session.connection.exec({
    query,
    query_id: queryId,
    clickhouse_settings: settings as never,
    ...(Object.keys(queryParams).length > 0 ? { query_params: queryParams } : {}),
  } as never);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-query-id': queryId };
  if (result.summary !== undefined) headers['x-clickhouse-summary'] = JSON.stringify(result.summary);
  response.writeHead(200, headers);
  for await (const chunk of result.stream) response.write(chunk as Buffer);
  response.end();
}

/** Serves `session` on 127.0.0.1:`port` (0 picks one). */
export async function serveWarehouse(session: ChdbSession, port: number): Promise<WarehouseServer> {
  const server: Server = createServer((request, response) => {
    handle(session, request, response).catch((error: unknown) => fail(response, error));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
