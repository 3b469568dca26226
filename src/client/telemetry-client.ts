/**
 * The producer client for POST /v1/events, for device SDK back ends and server-side
 * producers. It batches by size and time, gzips, and retries what may succeed later
 * (429, 503, other 5xx, network errors) with full-jitter exponential backoff that
 * honours Retry-After. It never retries a 4xx: the collector judged those events, and
 * sending them again cannot change the answer. Events wait in a bounded queue while
 * the collector is unreachable; order is kept, since batches go out one at a time.
 */
import { randomUUID } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { request, type Dispatcher } from 'undici';
import { fullJitterBackoff } from '../core/jitter.ts';
import { priorityOf } from '../collector/event-priority.ts';
import type { ClientStats, DropReason, EventRejection, TelemetryEvent } from './types.ts';

const gzipAsync = promisify(gzip);

/** Options for {@link createTelemetryClient}; every field but `endpoint` has a default. */
export interface TelemetryClientOptions {
  /** The collector's base URL, e.g. https://telemetry.example.com. */
  readonly endpoint: string;
  /** Producer key, sent as X-Quartile-Key. */
  readonly apiKey?: string;
  /** Most events per request. Default 100. */
  readonly maxBatchEvents?: number;
  /** Longest an event waits before its batch is sent. Default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** Events kept while the collector is unreachable; beyond it the oldest low-priority ones go first. Default 10,000. */
  readonly maxQueueEvents?: number;
  /** Gzip request bodies. Default true. */
  readonly gzip?: boolean;
  /** Timeout of one request. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** First retry delay (the backoff doubles, with full jitter). Default 250 ms. */
  readonly retryBaseMs?: number;
  /** Longest retry delay. Default 30 s. */
  readonly retryMaxMs?: number;
  /** How long a batch is retried before its events are dropped. Default 10 min. */
  readonly retryDeadlineMs?: number;
  /** Extra request headers (a server-side producer may forward the device's User-Agent). */
  readonly headers?: Readonly<Record<string, string>>;
  /** An undici dispatcher (connection pool) to share across clients. */
  readonly dispatcher?: Dispatcher;
  /** Called with events the collector refused. */
  readonly onRejected?: (rejections: readonly EventRejection[]) => void;
  /** Called with events the client gave up on. */
  readonly onDropped?: (events: readonly TelemetryEvent[], reason: DropReason) => void;
}

/** A telemetry client. */
export interface TelemetryClient {
  /** Queues an event (adds eventId and occurredAt when missing) and returns its eventId. */
  track(event: TelemetryEvent): string;
  /** Sends everything queued; resolves when the queue is empty or what is left was dropped. */
  flush(): Promise<void>;
  /** Flushes, then stops the timer. Events tracked after close are dropped. */
  close(): Promise<void>;
  stats(): ClientStats;
}

interface Answer {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly body: { accepted?: number; rejected?: Array<{ index: number; code: string; message: string }>; code?: string };
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Creates a client. Call `close()` when done so queued events are sent. */
export function createTelemetryClient(options: TelemetryClientOptions): TelemetryClient {
  const maxBatch = options.maxBatchEvents ?? 100;
  const maxQueue = options.maxQueueEvents ?? 10_000;
  const url = `${options.endpoint.replace(/\/$/, '')}/v1/events`;
  const queue: TelemetryEvent[] = [];
  const stats = { accepted: 0, rejected: 0, retries: 0, requests: 0, dropped: { 'queue-full': 0, 'client-error': 0, 'retry-deadline': 0, closed: 0 } };
  let sending: Promise<void> | undefined;
  let closed = false;

  const drop = (events: readonly TelemetryEvent[], reason: DropReason): void => {
    if (events.length === 0) return;
    stats.dropped[reason] += events.length;
    options.onDropped?.(events, reason);
  };

  async function send(batch: readonly TelemetryEvent[]): Promise<Answer> {
    let body: Buffer = Buffer.from(JSON.stringify({ events: batch }));
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.gzip ?? true) {
      body = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
    if (options.apiKey !== undefined) headers['x-quartile-key'] = options.apiKey;
    stats.requests++;
    const timeout = options.requestTimeoutMs ?? 10_000;
    const response = await request(url, {
      method: 'POST',
      body,
      headers,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
    const text = await response.body.text();
    let parsed: Answer['body'] = {};
    try {
      parsed = text === '' ? {} : (JSON.parse(text) as Answer['body']);
    } catch {
      // A proxy's HTML error page: the status decides.
    }
    return { status: response.statusCode, retryAfterMs: retryAfterMs(response.headers['retry-after']), body: parsed };
  }

  /** Sends one batch until it is judged, split, or out of time. */
  async function deliver(batch: TelemetryEvent[]): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      let answer: Answer | undefined;
      try {
        answer = await send(batch);
      } catch {
        answer = undefined; // network error or timeout: retry
      }
      if (answer !== undefined && answer.status === 200) {
        stats.accepted += answer.body.accepted ?? 0;
        const rejected = answer.body.rejected ?? [];
        stats.rejected += rejected.length;
        if (rejected.length > 0) options.onRejected?.(rejected.map((r) => ({ event: batch[r.index]!, code: r.code, message: r.message })));
        return;
      }
      if (answer !== undefined && answer.status === 413 && batch.length > 1) {
        // Too large for this collector's limits: halve and send each part.
        const half = Math.ceil(batch.length / 2);
        await deliver(batch.slice(0, half));
        await deliver(batch.slice(half));
        return;
      }
      const retriable = answer === undefined || answer.status === 429 || answer.status >= 500;
      if (!retriable) {
        drop(batch, 'client-error');
        return;
      }
      const deadline = options.retryDeadlineMs ?? 10 * 60_000;
      const backoff = fullJitterBackoff(attempt, options.retryBaseMs ?? 250, options.retryMaxMs ?? 30_000);
      const wait = Math.max(backoff, answer?.retryAfterMs ?? 0);
      if (Date.now() + wait - started > deadline) {
        drop(batch, 'retry-deadline');
        return;
      }
      stats.retries++;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) await deliver(queue.splice(0, maxBatch));
  }

  function kick(): Promise<void> {
    sending ??= drain().finally(() => {
      sending = undefined;
    });
    return sending;
  }

  const timer = setInterval(() => void kick(), options.flushIntervalMs ?? 1000);
  timer.unref();

  return {
    track(event) {
      const complete: TelemetryEvent = { ...event, eventId: event.eventId ?? randomUUID(), occurredAt: event.occurredAt ?? Date.now() };
      if (closed) {
        drop([complete], 'closed');
        return complete.eventId!;
      }
      if (queue.length >= maxQueue) {
        // Make room by dropping the oldest low-priority event, else the oldest event.
        const victim = queue.findIndex((e) => priorityOf(e.eventType) === 'low');
        drop(queue.splice(victim >= 0 ? victim : 0, 1), 'queue-full');
      }
      queue.push(complete);
      if (queue.length >= maxBatch) void kick();
      return complete.eventId!;
    },
    async flush() {
      while (queue.length > 0 || sending !== undefined) await kick();
    },
    async close() {
      await this.flush();
      closed = true;
      clearInterval(timer);
    },
    stats() {
      return { queued: queue.length, accepted: stats.accepted, rejected: stats.rejected, retries: stats.retries, requests: stats.requests, dropped: { ...stats.dropped } };
    },
  };
}
