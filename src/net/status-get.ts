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

/**
 * Options for {@link statusGet}; callers pass every field. A caller firing many GETs
 * keeps one options object for all of them (the headers are passed apart).
 */
export interface StatusGetOptions {
  /** Milliseconds for the whole exchange: connection, redirects, headers and body. */
  readonly timeoutMs: number;
  /** Redirects followed before giving up. */
  readonly maxRedirects: number;
  /** Allow loopback, private, link-local and metadata addresses. */
  readonly allowPrivateNetwork: boolean;
  /** Body bytes read (and dropped) before the connection is closed instead. */
  readonly maxBodyBytes: number;
}

/** The final answer, after redirects. */
export interface StatusGetResponse {
  /** The URL that answered: the one asked for, or where its redirects led. */
  readonly url: string;
  readonly status: number;
  /** The Retry-After header, when the server sent one. */
  readonly retryAfter: string | undefined;
}

/** The guard's policies, made once rather than per request. */
const POLICIES = { private: { allowPrivateNetwork: true }, public: { allowPrivateNetwork: false } } as const;

/** How often overdue exchanges are looked for: the deadline's precision. */
const SWEEP_MS = 20;

/** One request of one hop, as undici's dispatcher reports it. */
class Exchange implements Dispatcher.DispatchHandler {
  readonly deadline: number;
  readonly #maxBodyBytes: number;
  readonly #resolve: (exchange: Exchange) => void;
  readonly #reject: (error: Error) => void;
  #controller: Dispatcher.DispatchController | null = null;
  #settled = false;
  #bodyBytes = 0;
  status = 0;
  location: string | undefined;
  retryAfter: string | undefined;

  constructor(deadline: number, maxBodyBytes: number, resolve: (exchange: Exchange) => void, reject: (error: Error) => void) {
    this.deadline = deadline;
    this.#maxBodyBytes = maxBodyBytes;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Ends the exchange with an error that arose outside undici's callbacks. */
  fail(error: Error): void {
    this.#settle(error);
  }

  #settle(error: Error | null): void {
    if (this.#settled) return;
    this.#settled = true;
    sweeper.delete(this);
    if (error === null) this.#resolve(this);
    else this.#reject(error);
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

function exchange(dispatcher: Dispatcher, url: URL, headers: Readonly<Record<string, string>>, deadline: number, maxBodyBytes: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const handler = new Exchange(deadline, maxBodyBytes, resolve, reject);
    sweeper.add(handler);
    try {
      dispatcher.dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: 'GET', headers }, handler);
    } catch (error) {
      handler.fail(error as Error); // undici refused the request itself (a bad header, a closed agent)
    }
  });
}

/**
 * GETs `url` for its status. Throws a QuartileError whose code says why:
 * NET_URL_INVALID, NET_SCHEME_REFUSED, NET_ADDRESS_REFUSED, NET_DNS_FAILED,
 * NET_TIMEOUT, NET_UNREACHABLE or NET_TOO_MANY_REDIRECTS.
 */
export async function statusGet(url: string, headers: Readonly<Record<string, string>>, options: StatusGetOptions): Promise<StatusGetResponse> {
  const policy = options.allowPrivateNetwork ? POLICIES.private : POLICIES.public;
  const deadline = performance.now() + options.timeoutMs;
  const dispatcher = agentFor(options.allowPrivateNetwork);
  let current = checkUrl(url, policy);
  for (let hop = 0; ; hop++) {
    let answer: Exchange;
    try {
      answer = await exchange(dispatcher, current, headers, deadline, options.maxBodyBytes);
    } catch (error) {
      throw classify(error, current.href, error instanceof DeadlinePassed ? 'timeout' : null, options.timeoutMs);
    }
    if (REDIRECTS.has(answer.status) && answer.location !== undefined) {
      if (hop >= options.maxRedirects) throw new QuartileError('NET_TOO_MANY_REDIRECTS', `More than ${options.maxRedirects} redirects from ${url}.`);
      current = checkUrl(new URL(answer.location, current), policy);
      continue;
    }
    // `href` makes a new string each time it is read: the URL asked for is returned as it came, unless redirected.
    return { url: hop === 0 ? url : current.href, status: answer.status, retryAfter: answer.retryAfter };
  }
}
