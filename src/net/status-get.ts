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
import { checkUrl, type SsrfPolicy } from './ssrf-guard.ts';

/**
 * Options of a {@link StatusGet}; callers pass every field. A caller firing many GETs
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
  /**
   * The guarded Agent to send through (its SSRF policy must be `allowPrivateNetwork`'s);
   * by default the process's shared one for that policy.
   */
  readonly agent?: Dispatcher;
}

/** The guard's policies, made once rather than per request. */
const POLICIES = { private: { allowPrivateNetwork: true }, public: { allowPrivateNetwork: false } } as const;

function policyOf(options: StatusGetOptions): SsrfPolicy {
  return options.allowPrivateNetwork ? POLICIES.private : POLICIES.public;
}

/** How often overdue exchanges are looked for: the deadline's precision. */
const SWEEP_MS = 20;

/**
 * One GET, as its caller wants it ended: every hop shares it, and the last one calls
 * {@link answered} or {@link failed} exactly once. The caller extends it and turns the
 * answer into a value of its own (the beacon dispatcher's outcome), settling its own
 * promise there: the GET was an async function awaiting a promise per hop, under
 * another async function awaiting it, three promises and turns of the microtask queue
 * per beacon where one does.
 */
export abstract class StatusGet {
  /** The URL asked for, returned as it came unless redirected (`href` makes a new string each time it is read). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly options: StatusGetOptions;
  /** performance.now() when the GET started; its deadline is timeoutMs later. */
  readonly startedAt: number;
  readonly deadline: number;

  constructor(url: string, headers: Readonly<Record<string, string>>, options: StatusGetOptions) {
    this.url = url;
    this.headers = headers;
    this.options = options;
    this.startedAt = performance.now();
    this.deadline = this.startedAt + options.timeoutMs;
  }

  /** The final answer, after redirects; `url` is the one that answered. */
  abstract answered(status: number, retryAfter: string | undefined, url: string): void;

  /**
   * No answer: a QuartileError whose code says why (NET_URL_INVALID, NET_SCHEME_REFUSED,
   * NET_ADDRESS_REFUSED, NET_DNS_FAILED, NET_TIMEOUT, NET_UNREACHABLE or
   * NET_TOO_MANY_REDIRECTS), or, for a redirect to a Location that is not a URL, the
   * TypeError it threw.
   */
  abstract failed(error: Error): void;

  /** Sends the first request. Never throws: a URL the guard refuses ends in {@link failed}. */
  start(): void {
    let target: URL;
    try {
      target = checkUrl(this.url, policyOf(this.options));
    } catch (error) {
      this.failed(error as Error);
      return;
    }
    new Exchange(this, this.options.agent ?? agentFor(this.options.allowPrivateNetwork), this.url, 0).start(target);
  }
}

/**
 * One request of one hop, as undici's dispatcher reports it. The last hop ends the GET;
 * a redirect starts the next hop as a handler of its own, so a late callback of this one
 * (an abort's error) cannot touch it. It keeps its URL as text, not the parsed URL: that
 * object would live as long as the request, and was the largest thing of a beacon's
 * that the young generation's collector had to copy (~0.5 KB).
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #get: StatusGet;
  readonly #dispatcher: Dispatcher;
  /** This hop's URL: as the caller gave it for the first, as resolved for a redirect. */
  readonly #href: string;
  readonly #hop: number;
  #controller: Dispatcher.DispatchController | null = null;
  #settled = false;
  #bodyBytes = 0;
  #status = 0;
  #location: string | undefined;
  #retryAfter: string | undefined;

  constructor(get: StatusGet, dispatcher: Dispatcher, href: string, hop: number) {
    this.#get = get;
    this.#dispatcher = dispatcher;
    this.#href = href;
    this.#hop = hop;
  }

  get deadline(): number {
    return this.#get.deadline;
  }

  /** Sends this hop's request to `target`, its URL as the SSRF guard parsed it. */
  start(target: URL): void {
    sweeper.add(this);
    try {
      this.#dispatcher.dispatch({ origin: target.origin, path: `${target.pathname}${target.search}`, method: 'GET', headers: this.#get.headers }, this);
    } catch (error) {
      this.#fail(error); // undici refused the request itself (a bad header, a closed agent)
    }
  }

  /** Ends the GET with `error`, classified as the NET_* reason a caller sees. */
  #fail(error: unknown): void {
    if (!this.#open()) return;
    const get = this.#get;
    get.failed(classify(error, this.#href, error instanceof DeadlinePassed ? 'timeout' : null, get.options.timeoutMs));
  }

  /** This hop is over: the GET's answer, or the next hop of a redirect. */
  #answered(): void {
    if (!this.#open()) return;
    const get = this.#get;
    if (!REDIRECTS.has(this.#status) || this.#location === undefined) {
      get.answered(this.#status, this.#retryAfter, this.#href);
      return;
    }
    if (this.#hop >= get.options.maxRedirects) {
      get.failed(new QuartileError('NET_TOO_MANY_REDIRECTS', `More than ${get.options.maxRedirects} redirects from ${get.url}.`));
      return;
    }
    let next: URL;
    try {
      next = checkUrl(new URL(this.#location, this.#href), policyOf(get.options));
    } catch (error) {
      get.failed(error as Error); // an unreadable or refused Location
      return;
    }
    new Exchange(get, this.#dispatcher, next.href, this.#hop + 1).start(next);
  }

  /** Marks this hop settled; false when it already was. */
  #open(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    sweeper.delete(this);
    return true;
  }

  /** Ends an exchange past its deadline, whether or not it reached a connection yet. */
  expire(): void {
    const error = new DeadlinePassed('The exchange passed its deadline.');
    this.#fail(error);
    this.#controller?.abort(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Queued behind other requests until after its deadline: never sent.
    if (this.#settled) controller.abort(new DeadlinePassed('The exchange passed its deadline before it was sent.'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#status = statusCode;
    this.#location = first(headers['location']);
    this.#retryAfter = first(headers['retry-after']);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#get.options.maxBodyBytes) {
      // The status is what was asked for; a long body is not read to its end.
      this.#answered();
      controller.abort(new Error('The body is not read to its end.'));
    }
  }

  onResponseEnd(): void {
    this.#answered();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#fail(error);
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
