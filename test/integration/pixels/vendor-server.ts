/**
 * A measurement vendor for tests: an HTTP server on a loopback address that records
 * every hit (path, query, headers, time) and answers as the test says: per path
 * prefix, a status, a delay, headers, or a script of answers for successive hits
 * (flaky), the last one repeated.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One answer. */
export interface Answer {
  readonly status?: number;
  readonly delayMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One recorded hit. */
export interface Hit {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly at: number;
}

export interface VendorServer {
  readonly host: string;
  readonly port: number;
  readonly hits: Hit[];
  /** `http://host:port` + path. */
  url(path: string): string;
  /** Answers for paths starting with `prefix`: one answer, or a script (one per hit, the last repeated). */
  on(prefix: string, answers: Answer | readonly Answer[]): void;
  /** Hits on paths starting with `prefix`. */
  hitsOn(prefix: string): Hit[];
  close(): Promise<void>;
}

/** Starts a vendor on `host` (any 127.0.0.0/8 address). */
export async function startVendorServer(host = '127.0.0.1'): Promise<VendorServer> {
  const hits: Hit[] = [];
  const scripts = new Map<string, { answers: readonly Answer[]; next: number }>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    hits.push({ path: url.pathname, query: url.searchParams, headers: req.headers, at: Date.now() });
    let answer: Answer = { status: 200 };
    let longest = -1;
    for (const [prefix, script] of scripts) {
      if (url.pathname.startsWith(prefix) && prefix.length > longest) {
        longest = prefix.length;
        answer = script.answers[Math.min(script.next, script.answers.length - 1)] ?? answer;
      }
    }
    for (const [prefix, script] of scripts) if (url.pathname.startsWith(prefix) && prefix.length === longest) script.next++;
    const send = (): void => {
      res.writeHead(answer.status ?? 200, { 'content-type': 'image/gif', ...answer.headers });
      res.end();
    };
    if (answer.delayMs !== undefined && answer.delayMs > 0) setTimeout(send, answer.delayMs);
    else send();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    hits,
    url: (path) => `http://${host}:${port}${path}`,
    on(prefix, answers) {
      scripts.set(prefix, { answers: Array.isArray(answers) ? answers : [answers as Answer], next: 0 });
    },
    hitsOn: (prefix) => hits.filter((h) => h.path.startsWith(prefix)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
