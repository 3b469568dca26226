/**
 * The pipeline as an engine component: builds the processors and sinks from config
 * and runs them in a consumer group on ads.events.raw.
 */
import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../core/engine.ts';
import { requireAdmin } from '../http/admin-auth.ts';
import { parseSince } from '../core/time-spec.ts';
import { inspectDeadLetters, replayDeadLetters } from './dead-letter-tools.ts';
import type { Component } from '../core/component.ts';
import { MetadataRegistry } from '../ads/registry/metadata-registry.ts';
import { loadTokenKeyring } from '../ads/tokens/load-keyring.ts';
import { TokenService } from '../ads/tokens/token-service.ts';
import { TOPICS } from '../transport/topics.ts';
import { DecodeProcessor } from '../../processors/decode/processor.ts';
import { DecryptProcessor } from '../../processors/decrypt/processor.ts';
import { ResolveProcessor } from '../../processors/resolve/processor.ts';
import { EnrichProcessor } from '../../processors/enrich/processor.ts';
import { HashProcessor } from '../../processors/hash/processor.ts';
import { loadHashKey } from '../../processors/hash/hash-keys.ts';
import { DedupeProcessor } from '../../processors/dedupe/processor.ts';
import { SessionizeProcessor } from '../../processors/sessionize/processor.ts';
import { RouteProcessor } from '../../processors/route/processor.ts';
import { FrequencyCapProcessor } from '../../processors/frequency-cap/processor.ts';
import { loadCapKey, parseCapRules } from '../ads/caps/index.ts';
import { routingTable } from '../../processors/route/routing-table.ts';
import { KafkaSink } from '../../sinks/kafka/sink.ts';
import { DeadLetterSink } from '../../sinks/dead-letter/sink.ts';
import { ClickHouseSink } from '../../sinks/clickhouse/sink.ts';
import { PixelsSink } from '../../sinks/pixels/sink.ts';
import { deadLetterFor } from './dead-letter.ts';
import type { Processor } from './processor.ts';
import { PipelineRuntime } from './runtime.ts';
import { registerObservationRoute } from '../simulate/observation-route.ts';
import type { Sink } from './sink.ts';

/** Extra sinks and processors other parts of Quartile plug in (the pixels sink). */
export interface PipelineExtensions {
  /** Processors inserted before `route`, in order. */
  readonly beforeRoute?: readonly Processor[];
  readonly sinks?: readonly Sink[];
}

/** Builds the processors, in order. */
export function buildProcessors(ctx: EngineContext, extensions: PipelineExtensions = {}): Processor[] {
  const { config, backends, codec } = ctx;
  const p = config.pipeline;
  const tokens = new TokenService(loadTokenKeyring(config).keyring, { ttlSeconds: config.tokens.ttlSeconds, binding: config.tokens.binding });
  return [
    new DecodeProcessor(codec),
    new DecryptProcessor(tokens, { cacheEntries: p.tokenCacheEntries }),
    new ResolveProcessor(new MetadataRegistry(backends.state), { retries: p.resolveRetries, delayMs: p.resolveRetryDelayMs }),
    new EnrichProcessor({ botListFile: p.botList }),
    new HashProcessor(loadHashKey(config), loadCapKey(config)),
    new DedupeProcessor(backends.state, { ttlMs: p.dedupeTtlMs }),
    new SessionizeProcessor(backends.state, { gapMs: p.sessionGapMs, stateTtlMs: p.sessionStateTtlMs }),
    new FrequencyCapProcessor(backends.state, parseCapRules(config.ads.capRules)),
    ...(extensions.beforeRoute ?? []),
    new RouteProcessor(routingTable()),
  ];
}

/** The pipeline component. */
export class PipelineComponent implements Component {
  readonly name = 'pipeline';
  readonly runtime: PipelineRuntime;
  /** The vendor beacon sink (pause/resume per vendor, queue depth); undefined when pixels.enabled is off. */
  readonly pixels: PixelsSink | undefined;
  readonly #sinks: readonly Sink[];
  readonly #ctx: EngineContext;

  /**
   * `groupId` overrides the configured consumer group; `warehouse: false` leaves the
   * ClickHouse sink out (the pipeline benchmark measures processors into Kafka sinks).
   */
  constructor(ctx: EngineContext, extensions: PipelineExtensions = {}, options: { groupId?: string; warehouse?: boolean } = {}) {
    this.#ctx = ctx;
    const { config, backends, codec, metrics, logger } = ctx;
    const p = config.pipeline;
    this.pixels = config.pixels.enabled ? new PixelsSink(ctx) : undefined;
    this.#sinks = [
      new KafkaSink(backends.transport, codec),
      ...(options.warehouse === false ? [] : [new ClickHouseSink(backends.warehouse)]),
      ...(this.pixels === undefined ? [] : [this.pixels]),
      ...(extensions.sinks ?? []),
    ];
    this.runtime = new PipelineRuntime({
      transport: backends.transport,
      topic: TOPICS.raw,
      groupId: options.groupId ?? p.groupId,
      partitionsConcurrently: p.partitionsConcurrently,
      maxBatchRecords: p.maxBatchRecords,
      processors: buildProcessors(ctx, extensions),
      sinks: this.#sinks,
      deadLetters: new DeadLetterSink(backends.transport, codec),
      deadLetterForOutput: async (output, stage, error, now) => {
        if (output.kind === 'event') return deadLetterFor(output.event, stage, error, now);
        return {
          code: error.code,
          stage,
          message: error.message,
          retriable: error.retriable,
          attempts: 1,
          firstFailedAt: now,
          deadLetteredAt: now,
          source: { topic: TOPICS.sessions, partition: output.partition, offset: -1 },
          eventId: null,
          eventType: 'session',
          vendor: null,
          originalKey: Buffer.from(output.session.adInstanceId),
          originalValue: await codec.encode(TOPICS.sessions, output.session),
        };
      },
      metrics,
      logger: logger.child({ component: 'pipeline' }),
      allowedLatenessMs: p.allowedLatenessMs,
      idleWatermarkMs: p.idleWatermarkMs,
    });
  }

  async start(): Promise<void> {
    await this.runtime.start();
  }

  /** Operator routes for the dead-letter topic (admin token required). */
  routes(app: FastifyInstance): void {
    const { config, backends, codec, logger } = this.#ctx;
    registerObservationRoute(app, this.#ctx);
    app.get('/v1/admin/dlq', async (request, reply) => {
      if (requireAdmin(config.admin.token, request, reply) === undefined) return reply;
      const since = parseSince((request.query as { since?: string }).since);
      return { codes: await inspectDeadLetters(backends.transport, codec, since === undefined ? {} : { since }) };
    });
    app.post('/v1/admin/dlq/replay', async (request, reply) => {
      const operator = requireAdmin(config.admin.token, request, reply);
      if (operator === undefined) return reply;
      const body = (request.body ?? {}) as { code?: unknown; since?: unknown; fromStart?: unknown };
      if (typeof body.code !== 'string' || body.code === '') return reply.code(400).send({ code: 'HTTP_BAD_REQUEST', message: 'Give the reason code to replay: {"code": "RESOLVE_MISSING_METADATA"}.' });
      const since = parseSince(typeof body.since === 'string' ? body.since : undefined);
      const report = await replayDeadLetters(backends.transport, codec, { code: body.code, fromStart: body.fromStart === true, ...(since === undefined ? {} : { since }) });
      logger.info({ audit: 'dlq-replay', operator: operator.name, at: new Date().toISOString(), ...report }, 'operator replayed dead letters');
      return report;
    });
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
    for (const sink of this.#sinks) await sink.close();
  }
}
