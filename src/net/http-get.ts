/**
 * A small GET over undici for URLs that come from third parties (VAST wrapper URIs
 * now, tracking pixels later): every connection goes through the SSRF guard,
 * redirects are followed by hand so each hop is checked, and the whole request,
 * body included, is bounded in time and in size.
 */
import { Agent, Pool, request } from 'undici';
import { QuartileError, isQuartileError, messageOf } from '../core/errors.ts';
import { checkUrl, guardedConnector } from './ssrf-guard.ts';

/** Options for {@link httpGet}; callers pass every field (VAST options hold the defaults). */
export interface HttpGetOptions {
  /** Milliseconds for the whole exchange: connection, redirects, headers and body. */
  readonly timeoutMs: number;
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Redirects followed before giving up. */
  readonly maxRedirects: number;
  /** Allow loopback, private, link-local and metadata addresses. */
  readonly allowPrivateNetwork: boolean;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request early (the caller's own deadline). */
  readonly signal?: AbortSignal;
  /** Skip reading the body (beacons need only the status). */
  readonly discardBody?: boolean;
}

/** A response to {@link httpGet}. Any status is returned; only 2xx bodies are read. */
export interface HttpGetResponse {
  /** The URL that answered, after redirects: relative URIs in the body resolve against it. */
  readonly url: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body of a 2xx response; empty otherwise. */
  readonly body: Buffer;
}

/** Statuses whose Location is followed. */
export const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
// The connection attempt itself; the per-request timeout below is usually shorter.
const CONNECT_TIMEOUT_MS = 10_000;

/** The SSRF guard on every connection an Agent opens, for a policy. */
function guardedConnect(allowPrivateNetwork: boolean): ReturnType<typeof guardedConnector> {
  return guardedConnector({ allowPrivateNetwork, connectTimeoutMs: CONNECT_TIMEOUT_MS });
}

// One keep-alive pool per policy, shared by every request of the process.
const agents = new Map<boolean, Agent>();
/** The process's guarded keep-alive Agent for a policy (every connection checked by the SSRF guard). */
export function agentFor(allowPrivateNetwork: boolean): Agent {
  let agent = agents.get(allowPrivateNetwork);
  if (agent === undefined) {
    agent = new Agent({ connect: guardedConnect(allowPrivateNetwork) });
    agents.set(allowPrivateNetwork, agent);
  }
  return agent;
}

/**
 * A guarded keep-alive Agent of its own, whose pool for an origin keeps at most
 * `connectionsFor(host)` connections; its owner closes it. A caller that bounds its
 * requests in flight per host passes the same bound: undici otherwise opens more
 * connections than there are requests. It checks a kept-alive socket for a pending close
 * for one turn of the event loop before reusing it, and the pool counts the socket as
 * busy meanwhile and opens a new one for the next request: with 64 beacons in flight
 * per vendor, 128 connections each. Bounded, a request waits that turn for a warm socket
 * instead (on the loopback bench, 8% more beacons a second; on a real network, no
 * connection and TLS handshake more than the requests need).
 */
export function boundedAgent(allowPrivateNetwork: boolean, connectionsFor: (host: string) => number): Agent {
  return new Agent({
    connect: guardedConnect(allowPrivateNetwork),
    factory: (origin, options) => new Pool(origin, { ...options, connections: connectionsFor(new URL(String(origin)).hostname) }),
  });
}

/**
 * GETs `url`. Throws a QuartileError whose code says why: NET_URL_INVALID,
 * NET_SCHEME_REFUSED, NET_ADDRESS_REFUSED, NET_DNS_FAILED, NET_TIMEOUT,
 * NET_UNREACHABLE, NET_TOO_MANY_REDIRECTS or NET_RESPONSE_TOO_LARGE.
 */
export async function httpGet(url: string, options: HttpGetOptions): Promise<HttpGetResponse> {
  const policy = { allowPrivateNetwork: options.allowPrivateNetwork };
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  const dispatcher = agentFor(options.allowPrivateNetwork);
  let current = checkUrl(url, policy);
  try {
    for (let hop = 0; ; hop++) {
      const response = await request(current, {
        method: 'GET',
        dispatcher,
        signal,
        headers: { accept: 'application/xml, text/xml;q=0.9, */*;q=0.5', 'user-agent': 'Quartile', ...options.headers },
      });
      const location = response.headers['location'];
      if (REDIRECTS.has(response.statusCode) && typeof location === 'string') {
        await response.body.dump();
        if (hop >= options.maxRedirects) {
          throw new QuartileError('NET_TOO_MANY_REDIRECTS', `More than ${options.maxRedirects} redirects from ${url}.`);
        }
        current = checkUrl(new URL(location, current), policy);
        continue;
      }
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (!ok || options.discardBody === true) {
        await response.body.dump();
        return { url: current.href, status: response.statusCode, headers: response.headers, body: Buffer.alloc(0) };
      }
      const declared = Number(response.headers['content-length']);
      if (declared > options.maxBytes) {
        response.body.destroy();
        throw tooLarge(current.href, options.maxBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > options.maxBytes) {
          response.body.destroy();
          throw tooLarge(current.href, options.maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
      return { url: current.href, status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks, size) };
    }
  } catch (error) {
    throw classify(error, current.href, timeout.aborted ? 'timeout' : options.signal?.aborted === true ? 'aborted' : null, options.timeoutMs);
  }
}

function tooLarge(url: string, maxBytes: number): QuartileError {
  return new QuartileError('NET_RESPONSE_TOO_LARGE', `The response from ${url} is larger than ${maxBytes} bytes.`);
}

/** Turns whatever undici or the guard threw into a QuartileError with a stable code. */
export function classify(error: unknown, url: string, stopped: 'timeout' | 'aborted' | null, timeoutMs: number): QuartileError {
  const guard = findQuartileError(error);
  if (guard !== undefined) return guard;
  if (stopped === 'timeout') return new QuartileError('NET_TIMEOUT', `No complete response from ${url} within ${timeoutMs} ms.`, { retriable: true, cause: error });
  // The caller's signal is its own deadline running out: a timeout too, from where it stands.
  if (stopped === 'aborted') return new QuartileError('NET_TIMEOUT', `The request to ${url} was stopped by the caller's deadline.`, { retriable: true, cause: error });
  const code = errorCode(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new QuartileError('NET_DNS_FAILED', `Cannot resolve the host of ${url} (${code}).`, { retriable: code === 'EAI_AGAIN', cause: error });
  }
  return new QuartileError('NET_UNREACHABLE', `Cannot fetch ${url}: ${messageOf(error)}${code === undefined ? '' : ` (${code})`}.`, { retriable: true, cause: error });
}

/** The guard's own error, which undici may wrap in its connection errors. */
function findQuartileError(error: unknown): QuartileError | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (isQuartileError(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
