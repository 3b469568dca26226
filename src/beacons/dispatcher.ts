/**
 * The beacon dispatcher: fires one server-side beacon (a VAST Error URI now, the
 * vendor pixels of the pixels sink later) over undici, through the SSRF guard, and
 * says what happened as a value. It never throws for a bad URL or a bad vendor, and
 * it never retries: retries, the ledger and backoff belong to the caller.
 *
 * A beacon sent by a server on a device's behalf carries the device's identity in the
 * headers the IAB defines for server-side requests (VAST 4.x, "Server-Side Ad
 * Insertion": X-Device-IP, X-Device-User-Agent, X-Device-Referer and the device's
 * Accept-Language), while its own User-Agent names the server. These values are
 * used in flight only.
 *
 * Connections: every request goes through src/net/status-get.ts, on a guarded undici
 * Agent, which keeps a keep-alive pool per origin, so a vendor that receives thousands
 * of beacons a second is sent them over a few warm connections. Callers that bound
 * their requests in flight per host (the pixels sink, per vendor domain) bound the
 * connections per origin with it (`connectionsPerOrigin`). Only the status is read: no body stream, and
 * no AbortSignal per beacon.
 */
import { performance } from 'node:perf_hooks';
import { isQuartileError } from '../core/errors.ts';
import type { ReasonCode } from '../core/reason-codes.ts';
import type { Agent } from 'undici';
import { boundedAgent } from '../net/http-get.ts';
import { StatusGet, type StatusGetOptions } from '../net/status-get.ts';

/** The device a beacon is fired for; every field optional. */
export interface BeaconDevice {
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  readonly referer?: string | null;
  readonly acceptLanguage?: string | null;
}

/** Options of a dispatcher; every field has a default. */
export interface BeaconDispatcherOptions {
  /** Milliseconds for the whole exchange. Default 2000. */
  readonly timeoutMs?: number;
  /** Redirects followed. Default 3. */
  readonly maxRedirects?: number;
  /** Allow loopback and private addresses (tests, on-premises vendors). Default false. */
  readonly allowPrivateNetwork?: boolean;
  /** The server's own User-Agent. Default `Quartile/0.1 (server-side beacons)`. */
  readonly userAgent?: string;
  /**
   * Keep-alive connections to one origin at most, by host: a caller that bounds its
   * beacons in flight per host passes that bound (see boundedAgent). The dispatcher
   * then has connections of its own, which {@link BeaconDispatcher.close} ends. By
   * default it shares the process's pool, unbounded.
   */
  readonly connectionsPerOrigin?: (host: string) => number;
}

/**
 * What happened to one beacon. `delivered`: a 2xx. `retry`: worth trying again later
 * (timeout, connection failure, 5xx, 408, 429). `reject`: trying again cannot help
 * (bad URL, refused address, other 4xx, redirect loop).
 */
export interface BeaconOutcome {
  readonly outcome: 'delivered' | 'retry' | 'reject';
  /** The URL as fired. */
  readonly url: string;
  /** The final HTTP status, or null when no response came back. */
  readonly status: number | null;
  /** Milliseconds from the start of the request to its end. */
  readonly latencyMs: number;
  /** Why it was not delivered (NET_* codes, NET_HTTP_STATUS); null when delivered. */
  readonly reason: ReasonCode | null;
  /** The server's Retry-After (RFC 9110 §10.2.3: seconds or an HTTP date) in ms, when it sent one. */
  readonly retryAfterMs: number | null;
}

/** Milliseconds a Retry-After header value asks to wait; null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return null;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const RETRIABLE_NET: ReadonlySet<ReasonCode> = new Set(['NET_TIMEOUT', 'NET_UNREACHABLE']);

// Header values go on the wire as they are: a CR, LF or NUL from a device must not
// split or break the request (undici refuses such values outright).
function headerSafe(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const clean = value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '').trim();
  return clean === '' ? null : clean;
}

/**
 * The IAB server-side device headers for `device`, plus the server's own User-Agent.
 * VAST requests made for a device carry the same headers (src/ads/decision).
 */
export function serverSideHeaders(device: BeaconDevice | undefined, userAgent: string): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': userAgent };
  const ip = headerSafe(device?.ip);
  const ua = headerSafe(device?.userAgent);
  const referer = headerSafe(device?.referer);
  const language = headerSafe(device?.acceptLanguage);
  if (ip !== null) headers['x-device-ip'] = ip;
  if (ua !== null) headers['x-device-user-agent'] = ua;
  if (referer !== null) headers['x-device-referer'] = referer;
  if (language !== null) headers['accept-language'] = language;
  return headers;
}

/**
 * The headers of a beacon's request. `accept` is set on the object serverSideHeaders made
 * rather than spread into a new one: on V8 11 (Node 20), `{ ...o, k: v }` with a `k` that
 * `o` lacks leaves the fast clone path and costs about a microsecond.
 */
function requestHeaders(device: BeaconDevice | undefined, userAgent: string): Record<string, string> {
  const headers = serverSideHeaders(device, userAgent);
  headers['accept'] = '*/*';
  return headers;
}

/**
 * Milliseconds since `started`, to 0.01 ms. A module function rather than a closure per
 * beacon: under tsx (esbuild keepNames) each named closure created costs ~0.4 µs.
 */
function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/** Told what happened to a beacon sent with {@link BeaconDispatcher.send}, with the caller's own value. */
export type BeaconAnswered<C> = (outcome: BeaconOutcome, context: C) => void;

/**
 * One beacon's GET. It ends straight in its caller's function, with the outcome, never
 * with an error: a promise per beacon (and, in an async caller, its frame and a turn of
 * the microtask queue) cost more than the dispatcher's own work for it.
 */
class BeaconGet<C> extends StatusGet {
  readonly #done: BeaconAnswered<C>;
  readonly #context: C;

  constructor(url: string, headers: Readonly<Record<string, string>>, options: StatusGetOptions, done: BeaconAnswered<C>, context: C) {
    super(url, headers, options);
    this.#done = done;
    this.#context = context;
  }

  answered(status: number, retryAfter: string | undefined): void {
    const url = this.url;
    const latencyMs = elapsedMs(this.startedAt);
    if (status >= 200 && status < 300) {
      this.#end({ outcome: 'delivered', url, status, latencyMs, reason: null, retryAfterMs: null });
      return;
    }
    const retriable = status >= 500 || status === 408 || status === 429;
    this.#end({ outcome: retriable ? 'retry' : 'reject', url, status, latencyMs, reason: 'NET_HTTP_STATUS', retryAfterMs: retriable ? retryAfterMs(retryAfter) : null });
  }

  failed(error: Error): void {
    const reason: ReasonCode = isQuartileError(error) ? error.code : 'NET_UNREACHABLE';
    const retriable = RETRIABLE_NET.has(reason) || (isQuartileError(error) && error.code === 'NET_DNS_FAILED' && error.retriable);
    this.#end({ outcome: retriable ? 'retry' : 'reject', url: this.url, status: null, latencyMs: elapsedMs(this.startedAt), reason, retryAfterMs: null });
  }

  #end(outcome: BeaconOutcome): void {
    try {
      this.#done(outcome, this.#context);
    } catch (error) {
      // The caller's function runs inside undici's response callback, where an error would
      // be taken for the connection's and end it: it is thrown again on its own instead.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** Whom a beacon is fired for: a device, or the request headers {@link BeaconDispatcher.headersFor} made for one. */
export interface BeaconRequest {
  readonly device?: BeaconDevice;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Fires beacons with one set of options. Stateless: share one per process. */
export class BeaconDispatcher {
  readonly #userAgent: string;
  /** Headers per device object: an event's beacons share one device, so its headers are cleaned once. */
  readonly #headers = new WeakMap<BeaconDevice, Readonly<Record<string, string>>>();
  readonly #deviceless: Readonly<Record<string, string>>;
  /** The options of every GET: one object, not one per beacon. */
  readonly #get: StatusGetOptions;
  /** Its own Agent, when its connections per origin are bounded. */
  readonly #agent: Agent | undefined;

  constructor(options: BeaconDispatcherOptions = {}) {
    this.#userAgent = options.userAgent ?? 'Quartile/0.1 (server-side beacons)';
    this.#deviceless = requestHeaders(undefined, this.#userAgent);
    const allowPrivateNetwork = options.allowPrivateNetwork ?? false;
    this.#agent = options.connectionsPerOrigin === undefined ? undefined : boundedAgent(allowPrivateNetwork, options.connectionsPerOrigin);
    this.#get = {
      timeoutMs: options.timeoutMs ?? 2000,
      maxBodyBytes: 64 * 1024,
      maxRedirects: options.maxRedirects ?? 3,
      allowPrivateNetwork,
      ...(this.#agent === undefined ? {} : { agent: this.#agent }),
    };
  }

  /** Ends the dispatcher's own connections, if it has any; requests in flight finish first. */
  async close(): Promise<void> {
    await this.#agent?.close();
  }

  /**
   * The request headers of a beacon fired for `device`: the server-side headers, cleaned.
   * A caller firing many beacons for one device makes them once and passes them to
   * {@link fire}.
   */
  headersFor(device: BeaconDevice | undefined): Readonly<Record<string, string>> {
    return device === undefined ? this.#deviceless : requestHeaders(device, this.#userAgent);
  }

  #cachedHeadersFor(device: BeaconDevice | undefined): Readonly<Record<string, string>> {
    if (device === undefined) return this.#deviceless;
    let headers = this.#headers.get(device);
    if (headers === undefined) {
      headers = this.headersFor(device);
      this.#headers.set(device, headers);
    }
    return headers;
  }

  /**
   * GETs `url` (macros already expanded) on behalf of `device`, or with `headers` made by
   * {@link headersFor}. Never rejects: what happened is in the outcome.
   */
  fire(url: string, options: BeaconRequest = {}): Promise<BeaconOutcome> {
    return new Promise((resolve) => this.send(url, options, resolve, undefined));
  }

  /**
   * {@link fire} for callers that fire thousands a second: `done(outcome, context)` is
   * called once, with no promise in between. It runs inside undici's response callback
   * (or before send returns, for a URL the SSRF guard refuses), so it must not wait on
   * anything; what it throws is thrown again on its own.
   */
  send<C>(url: string, options: BeaconRequest, done: BeaconAnswered<C>, context: C): void {
    const headers = options.headers ?? this.#cachedHeadersFor(options.device);
    new BeaconGet(url, headers, this.#get, done, context).start();
  }
}
