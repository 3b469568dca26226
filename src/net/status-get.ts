/**
 * A GET for callers that want only the answer's status (vendor beacons, thousands a
 * second): the same SSRF guard, hand-followed redirects and whole-exchange deadline as
 * httpGet, at a fraction of its cost per request. It drives undici's dispatcher with a
 * handler of its own, so there is no response body stream to create and dump, and no
 * AbortSignal and timer per request: one sweeper per process ends overdue exchanges.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { QuartileError } from '../core/errors.ts';
import { REDIRECTS, agentFor, classify } from './http-get.ts';
import { checkUrl } from './ssrf-guard.ts';

/** Options for {@link statusGet}; callers pass every field. */
export interface StatusGetOptions {
  /** Milliseconds for the whole exchange: connection, redirects, headers and body. */
  readonly timeoutMs: number;
  /** Redirects followed before giving up. */
  readonly maxRedirects: number;
  /** Allow loopback, private, link-local and metadata addresses. */
  readonly allowPrivateNetwork: boolean;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body bytes read (and dropped) before the connection is closed instead. */
  readonly maxBodyBytes: number;
}

/** The final answer, after redirects. */
export interface StatusGetResponse {
  /** The URL that answered. */
  readonly url: string;
  readonly status: number;
  /** The Retry-After header, when the server sent one. */
  readonly retryAfter: string | undefined;
}

/** How often overdue exchanges are looked for: the deadline's precision. */
const SWEEP_MS = 20;

/** One request of one hop, as undici's dispatcher reports it. */
class Exchange implements Dispatcher.DispatchHandler {
  readonly deadline: number;
  readonly #maxBodyBytes: number;
  readonly #done: (error: Error | null, exchange: Exchange) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #settled = false;
  #bodyBytes = 0;
  status = 0;
  location: string | undefined;
  retryAfter: string | undefined;

  constructor(deadline: number, maxBodyBytes: number, done: (error: Error | null, exchange: Exchange) => void) {
    this.deadline = deadline;
    this.#maxBodyBytes = maxBodyBytes;
    this.#done = done;
  }

  /** Ends the exchange with an error that arose outside undici's callbacks. */
  fail(error: Error): void {
    this.#settle(error);
  }

  #settle(error: Error | null): void {
    if (this.#settled) return;
    this.#settled = true;
    sweeper.delete(this);
    this.#done(error, this);
  }

  /** Ends an exchange past its deadline, whether or not it reached a connection yet. */
  expire(): void {
    const error = new DeadlinePassed('The exchange passed its deadline.');
    this.#settle(error);
    this.#controller?.abort(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Queued behind other requests until after its deadline: never sent.
    if (this.#settled) controller.abort(new DeadlinePassed('The exchange passed its deadline before it was sent.'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    this.location = first(headers['location']);
    this.retryAfter = first(headers['retry-after']);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#maxBodyBytes) {
      // The status is what was asked for; a long body is not read to its end.
      this.#settle(null);
      controller.abort(new Error('The body is not read to its end.'));
    }
  }

  onResponseEnd(): void {
    this.#settle(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#settle(error);
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Why an exchange was ended by its deadline. */
class DeadlinePassed extends Error {
  override readonly name = 'DeadlinePassed';
}

/** Ends exchanges whose deadline passed; its timer runs only while some are in flight. */
class DeadlineSweeper {
  readonly #pending = new Set<Exchange>();
  #timer: NodeJS.Timeout | undefined;

  add(exchange: Exchange): void {
    this.#pending.add(exchange);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      this.#timer.unref();
    }
  }

  delete(exchange: Exchange): void {
    this.#pending.delete(exchange);
  }

  #sweep(): void {
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const exchange of this.#pending) if (exchange.deadline <= now) exchange.expire();
  }
}

const sweeper = new DeadlineSweeper();

function exchange(dispatcher: Dispatcher, origin: string, path: string, headers: Readonly<Record<string, string>>, deadline: number, maxBodyBytes: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const handler = new Exchange(deadline, maxBodyBytes, (error, done) => (error === null ? resolve(done) : reject(error)));
    sweeper.add(handler);
    try {
      dispatcher.dispatch({ origin, path, method: 'GET', headers }, handler);
    } catch (error) {
      handler.fail(error as Error); // undici refused the request itself (a bad header, a closed agent)
    }
  });
}

/** A URL already checked, split as undici's dispatcher takes it. */
export interface Target {
  readonly href: string;
  readonly origin: string;
  readonly path: string;
  /** The parsed URL, when it was parsed (redirects resolve against it). */
  readonly parsed: URL | null;
}

/**
 * Origins (`scheme://authority/`) already through the guard's URL check, per policy,
 * with what the check made of them. Beacons go to a few vendors' origins thousands of
 * times a second: parsing each URL again only to find the same origin costs more than
 * the rest of the request's preparation. Bounded: cleared when full.
 */
const checkedOrigins = [new Map<string, string>(), new Map<string, string>()] as const;
const CHECKED_ORIGINS_MAX = 10_000;

// What the WHATWG URL parser leaves as it is in a path and a query: RFC 3986's
// unreserved and sub-delims (but `'`, encoded in a query), `:`, `@`, `/`, `?` and `%`.
// A URL made only of these, with no dot segment and no empty query (a trailing `?`,
// which the parser drops from the path), is its own href, so it can be sent as written; anything else (spaces, quotes, `#`, `\`, non-ASCII…) takes the parser.
const VERBATIM = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*$/;
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:\/|\?|$)/i;
const AUTHORITY_END = /[/?#\\]/;

/** `url` checked by the SSRF guard (as `checkUrl` does), parsed only when its origin is new or its text needs the parser. */
export function statusTarget(url: string, policy: { readonly allowPrivateNetwork: boolean }): Target {
  const schemeEnd = url.startsWith('http://') ? 7 : url.startsWith('https://') ? 8 : -1;
  if (schemeEnd > 0) {
    const end = url.slice(schemeEnd).search(AUTHORITY_END) + schemeEnd;
    if (end > schemeEnd && url.charCodeAt(end) === 47 /* / */) {
      const rest = url.slice(end);
      const query = rest.indexOf('?');
      if (VERBATIM.test(rest) && !DOT_SEGMENT.test(query === -1 ? rest : rest.slice(0, query)) && query !== rest.length - 1) {
        const cache = checkedOrigins[policy.allowPrivateNetwork ? 1 : 0];
        const prefix = url.slice(0, end + 1);
        let origin = cache.get(prefix);
        if (origin === undefined) {
          let checked: URL | null = null;
          try {
            checked = checkUrl(prefix, policy);
          } catch {
            // Refused: the whole URL is checked below, for the error that names it.
          }
          // The parser may rewrite the authority (case, default port): then it is not sent verbatim.
          if (checked !== null && checked.href === prefix) {
            origin = checked.origin;
            if (cache.size >= CHECKED_ORIGINS_MAX) cache.clear();
            cache.set(prefix, origin);
          }
        }
        if (origin !== undefined) return { href: url, origin, path: rest, parsed: null };
      }
    }
  }
  return parsedTarget(checkUrl(url, policy));
}

function parsedTarget(url: URL): Target {
  return { href: url.href, origin: url.origin, path: `${url.pathname}${url.search}`, parsed: url };
}

/**
 * GETs `url` for its status. Throws a QuartileError whose code says why:
 * NET_URL_INVALID, NET_SCHEME_REFUSED, NET_ADDRESS_REFUSED, NET_DNS_FAILED,
 * NET_TIMEOUT, NET_UNREACHABLE or NET_TOO_MANY_REDIRECTS.
 */
export async function statusGet(url: string, options: StatusGetOptions): Promise<StatusGetResponse> {
  const policy = options.allowPrivateNetwork ? PRIVATE_ALLOWED : PUBLIC_ONLY;
  const deadline = performance.now() + options.timeoutMs;
  const dispatcher = agentFor(options.allowPrivateNetwork);
  let current = statusTarget(url, policy);
  for (let hop = 0; ; hop++) {
    let answer: Exchange;
    try {
      answer = await exchange(dispatcher, current.origin, current.path, options.headers, deadline, options.maxBodyBytes);
    } catch (error) {
      throw classify(error, current.href, error instanceof DeadlinePassed ? 'timeout' : null, options.timeoutMs);
    }
    if (REDIRECTS.has(answer.status) && answer.location !== undefined) {
      if (hop >= options.maxRedirects) throw new QuartileError('NET_TOO_MANY_REDIRECTS', `More than ${options.maxRedirects} redirects from ${url}.`);
      // Every hop is checked again, against the full parser.
      current = parsedTarget(checkUrl(new URL(answer.location, current.parsed ?? current.href), policy));
      continue;
    }
    return { url: current.href, status: answer.status, retryAfter: answer.retryAfter };
  }
}

const PRIVATE_ALLOWED = { allowPrivateNetwork: true } as const;
const PUBLIC_ONLY = { allowPrivateNetwork: false } as const;
