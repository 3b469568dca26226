/**
 * The collector: POST /v1/events. Devices and telemetry producers send batches of ad
 * playback events; each event is validated on its own; accepted events go to
 * ads.events.raw keyed by playback session, refused ones to ads.events.rejected with
 * their reason. The answer is 200 only once the event log acknowledged both, so an
 * accepted event is never lost; otherwise 503 with a jittered Retry-After and nothing
 * counts as accepted (the client's retry is deduplicated downstream by eventId).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdEvent, RejectedEvent } from '../../schemas/types.ts';
import type { ApiKeyConfig, QuartileConfig } from '../config/spec.ts';
import type { Component } from '../core/component.ts';
import { QuartileError, messageOf } from '../core/errors.ts';
import { jitteredRetryAfterSeconds } from '../core/jitter.ts';
import type { ReasonCode } from '../core/reason-codes.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { RecordCodec } from '../transport/avro/record-codec.ts';
import { TOPICS } from '../transport/topics.ts';
import type { Transport } from '../transport/transport.ts';
import { BatchingPublisher } from './batching-publisher.ts';
import { priorityOf } from './event-priority.ts';
import { EventLoopLag, loadLevel, type LoadLevel } from './load-shedder.ts';
import { TokenBucket } from './rate-limiter.ts';
import { redactedJson } from './redact-raw.ts';
import { validateEvent, type EventRejection } from './validate-event.ts';

const gunzipAsync = promisify(gunzip);

/** What the collector needs. */
export interface CollectorOptions {
  readonly config: QuartileConfig;
  readonly transport: Transport;
  readonly codec: RecordCodec;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** The answer to POST /v1/events. */
export interface IntakeResponse {
  readonly requestId: string;
  readonly accepted: number;
  readonly rejected: Array<{ index: number; code: ReasonCode; message: string }>;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: ReasonCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

interface Producer {
  readonly id: string;
  readonly bucket: TokenBucket;
}

function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export class Collector implements Component {
  readonly name = 'collector';
  readonly #options: CollectorOptions;
  readonly #publisher: BatchingPublisher;
  readonly #lag = new EventLoopLag();
  readonly #producers: Array<{ digest: Buffer; producer: Producer }>;
  #inFlightBytes = 0;
  #draining = false;

  constructor(options: CollectorOptions) {
    this.#options = options;
    this.#publisher = new BatchingPublisher(options.transport, {
      lingerMs: options.config.collector.lingerMs,
      maxBatchRecords: options.config.collector.maxBatchRecords,
    });
    this.#producers = options.config.collector.apiKeys.map((k: ApiKeyConfig) => ({
      digest: keyDigest(k.key),
      producer: { id: k.id, bucket: new TokenBucket(k.ratePerSec, k.burst) },
    }));
  }

  /** Current load level (exposed for metrics and the Control Room). */
  loadLevel(): LoadLevel {
    const c = this.#options.config.collector;
    return loadLevel(
      { eventLoopLagMs: this.#lag.lagMs, backlogRecords: this.#publisher.backlog, inFlightBytes: this.#inFlightBytes },
      c,
    );
  }

  routes(app: FastifyInstance): void {
    const c = this.#options.config.collector;
    void app.register(async (scope) => {
      // The collector reads raw bytes itself: it must gunzip under a size limit and
      // answer its own 400/413/415 codes, whatever the Content-Type.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: c.maxBodyBytes + 64 * 1024 }, (_req, body, done) => done(null, body));
      scope.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
          return this.#fail(reply, new RequestError(413, 'COLLECTOR_BODY_TOO_LARGE', `The body is larger than ${c.maxBodyBytes} bytes; send fewer events per request.`));
        }
        if ((error.statusCode ?? 500) < 500) {
          return this.#fail(reply, new RequestError(error.statusCode ?? 400, 'COLLECTOR_BAD_BODY', error.message));
        }
        request.log.error({ err: error }, 'collector request failed');
        return reply.code(500).send({ code: 'HTTP_INTERNAL', message: 'Internal error; the engine logged the details. Retry later.' });
      });
      scope.post('/v1/events', (request, reply) => this.#intake(request, reply));
    });
  }

  #fail(reply: FastifyReply, error: RequestError): FastifyReply {
    if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.code(error.status).send({ code: error.code, message: error.message });
  }

  #authenticate(request: FastifyRequest): Producer | null {
    if (this.#producers.length === 0) return null;
    const key = request.headers['x-quartile-key'];
    if (typeof key !== 'string' || key === '') {
      throw new RequestError(401, 'COLLECTOR_API_KEY_MISSING', 'This collector requires an API key: send it in the X-Quartile-Key header.');
    }
    const digest = keyDigest(key);
    // Compare digests in constant time so response timing reveals nothing about keys.
    const match = this.#producers.find((p) => timingSafeEqual(p.digest, digest));
    if (match === undefined) throw new RequestError(401, 'COLLECTOR_API_KEY_INVALID', 'The X-Quartile-Key is not a configured key; check the key your producer was given.');
    return match.producer;
  }

  async #body(request: FastifyRequest): Promise<unknown> {
    const c = this.#options.config.collector;
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new RequestError(415, 'COLLECTOR_UNSUPPORTED_MEDIA_TYPE', `Send Content-Type: application/json (got "${type || 'none'}").`);
    }
    let body = request.body as Buffer | undefined;
    if (body === undefined || body.length === 0) throw new RequestError(400, 'COLLECTOR_BAD_BODY', 'The body is empty; send {"events": [...]}.');
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'gzip') {
      try {
        body = await gunzipAsync(body, { maxOutputLength: c.maxBodyBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new RequestError(413, 'COLLECTOR_BODY_TOO_LARGE', `The body is larger than ${c.maxBodyBytes} bytes once decompressed; send fewer events per request.`);
        }
        throw new RequestError(400, 'COLLECTOR_BAD_ENCODING', `The gzip body could not be decompressed: ${messageOf(error)}.`);
      }
    } else if (encoding !== 'identity') {
      throw new RequestError(415, 'COLLECTOR_UNSUPPORTED_ENCODING', `Content-Encoding "${encoding}" is not supported; use gzip or none.`);
    }
    if (body.length > c.maxBodyBytes) {
      throw new RequestError(413, 'COLLECTOR_BODY_TOO_LARGE', `The body is ${body.length} bytes; the limit is ${c.maxBodyBytes}. Send fewer events per request.`);
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new RequestError(400, 'COLLECTOR_BAD_JSON', `The body is not valid JSON: ${messageOf(error)}.`);
    }
  }

  async #intake(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const { metrics, config, codec } = this.#options;
    const c = config.collector;
    const requestId = randomUUID();
    const size = (request.body as Buffer | undefined)?.length ?? 0;
    this.#inFlightBytes += size;
    try {
      if (this.#draining) throw new RequestError(503, 'COLLECTOR_OVERLOADED', 'The collector is shutting down; retry on another instance.', jitteredRetryAfterSeconds(1, 3));
      const producer = this.#authenticate(request);
      const level = this.loadLevel();
      if (level === 'hard') {
        throw new RequestError(503, 'COLLECTOR_OVERLOADED', 'The collector is overloaded; retry after the Retry-After delay.', jitteredRetryAfterSeconds(1, 5));
      }
      const body = await this.#body(request);
      if (body === null || typeof body !== 'object' || !Array.isArray((body as { events?: unknown }).events)) {
        throw new RequestError(400, 'COLLECTOR_BAD_BODY', 'The body must be an object with an "events" array: {"events": [...]}.');
      }
      const events = (body as { events: unknown[] }).events;
      if (events.length > c.maxEvents) {
        throw new RequestError(413, 'COLLECTOR_TOO_MANY_EVENTS', `${events.length} events in one request; the limit is ${c.maxEvents}. Split the batch.`);
      }
      if (producer !== null) {
        const decision = producer.bucket.take(events.length);
        if (!decision.allowed) {
          const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
          throw new RequestError(429, 'COLLECTOR_RATE_LIMITED', `Producer ${producer.id} is over its rate limit; retry after the Retry-After delay.`, jitteredRetryAfterSeconds(seconds, seconds + 2));
        }
      }
      metrics.eventsIn.inc({ stage: 'collector' }, events.length);

      const now = Date.now();
      const country = c.countryHeader === '' ? null : headerValue(request, c.countryHeader);
      const ctx = {
        now,
        maxEventAgeMs: c.maxEventAgeMs,
        maxClockSkewMs: c.maxClockSkewMs,
        requestIp: request.ip ?? null,
        requestUserAgent: headerValue(request, 'user-agent'),
        trustedProducer: producer !== null,
        producer: producer?.id ?? null,
        country: country !== null && /^[A-Za-z]{2}$/.test(country) ? country.toUpperCase() : null,
      };
      const accepted: AdEvent[] = [];
      const refused: Array<{ index: number; rejection: EventRejection; raw: unknown }> = [];
      const shed: Array<{ index: number; code: ReasonCode; message: string }> = [];
      for (let index = 0; index < events.length; index++) {
        const result = validateEvent(events[index], ctx);
        if (!result.ok) {
          refused.push({ index, rejection: result.rejection, raw: events[index] });
        } else if (level === 'soft' && priorityOf(result.event.eventType) === 'low') {
          shed.push({ index, code: 'EVENT_SHED', message: `${result.event.eventType} was shed: the collector is under load and keeps billing events first.` });
        } else {
          accepted.push(result.event);
        }
      }

      const rejectedRecords: RejectedEvent[] = refused.map((r) => ({
        code: r.rejection.code,
        message: r.rejection.message,
        index: r.index,
        requestId,
        rejectedAt: now,
        producer: producer?.id ?? null,
        raw: redactedJson(r.raw),
      }));
      try {
        const [rawValues, rejectedValues] = await Promise.all([codec.encodeMany(TOPICS.raw, accepted), codec.encodeMany(TOPICS.rejected, rejectedRecords)]);
        await Promise.all([
          this.#publisher.publish(TOPICS.raw, accepted.map((e, i) => ({ key: e.playbackSessionId, value: rawValues[i]!, timestamp: now }))),
          this.#publisher.publish(TOPICS.rejected, rejectedValues.map((value) => ({ key: requestId, value, timestamp: now }))),
        ]);
      } catch (error) {
        this.#options.logger.warn({ err: messageOf(error), requestId }, 'events not acknowledged by the event log; answering 503');
        throw new RequestError(
          503,
          'COLLECTOR_TRANSPORT_UNAVAILABLE',
          'The event log did not acknowledge these events, so none were accepted; retry the whole request after the Retry-After delay.',
          jitteredRetryAfterSeconds(1, 5),
        );
      }

      metrics.eventsOut.inc({ stage: 'collector' }, accepted.length);
      for (const r of refused) metrics.rejected.inc({ code: r.rejection.code });
      if (shed.length > 0) metrics.dropped.inc({ stage: 'collector', reason: 'shed' }, shed.length);
      const response: IntakeResponse = {
        requestId,
        accepted: accepted.length,
        rejected: [...refused.map((r) => ({ index: r.index, code: r.rejection.code, message: r.rejection.message })), ...shed].sort((a, b) => a.index - b.index),
      };
      return reply.code(200).send(response);
    } catch (error) {
      if (error instanceof RequestError) {
        metrics.rejected.inc({ code: error.code });
        return this.#fail(reply, error);
      }
      throw error instanceof QuartileError ? error : new QuartileError('HTTP_BAD_REQUEST', messageOf(error), { cause: error });
    } finally {
      this.#inFlightBytes -= size;
    }
  }

  async drain(): Promise<void> {
    this.#draining = true;
  }

  async stop(): Promise<void> {
    await this.#publisher.flush();
    this.#lag.stop();
  }
}

function headerValue(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}
