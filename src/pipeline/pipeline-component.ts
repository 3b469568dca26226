/**
 * The pipeline as an engine component: builds the processors and sinks from config
 * and runs them in a consumer group on ads.events.raw.
 */
import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../core/engine.ts';
import type { Component } from '../core/component.ts';
import { registerPipelineAdminRoutes, registerPixelsAdminRoutes } from './admin-routes.ts';
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
import { CLICKHOUSE_SINK_DEFAULTS } from '../../sinks/clickhouse/config.ts';
import { ClickHouseSink } from '../../sinks/clickhouse/sink.ts';
import { PixelsSink } from '../../sinks/pixels/sink.ts';
import { BeaconDeliverer } from '../../sinks/pixels/deliverer.ts';
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

/**
 * Where the pipeline stands: `starting` until setup is done, `running`, `draining`
 * (no more fetching; in-flight batches finish and commit), `drained` (stopped, while
 * the engine goes on serving HTTP).
 */
export type PipelinePhase = 'starting' | 'running' | 'draining' | 'drained';

/** The pipeline component. */
export class PipelineComponent implements Component {
  readonly name = 'pipeline';
  readonly runtime: PipelineRuntime;
  /** Beacon delivery in this process (pause/resume per vendor, queue depth); undefined when pixels.enabled or pixels.deliver is off. */
  readonly pixels: BeaconDeliverer | undefined;
  readonly #sinks: readonly Sink[];
  readonly #ctx: EngineContext;
  #phase: PipelinePhase = 'starting';
  #stopped: Promise<void> | undefined;

  /**
   * `groupId` overrides the configured consumer group (beacon delivery then uses
   * `<groupId>-pixels`); `warehouse: false` leaves the ClickHouse sink out (the pipeline
   * benchmark measures processors into Kafka sinks).
   */
  constructor(ctx: EngineContext, extensions: PipelineExtensions = {}, options: { groupId?: string; warehouse?: boolean } = {}) {
    this.#ctx = ctx;
    const { config, backends, codec, metrics, logger } = ctx;
    const p = config.pipeline;
    const deliveryGroupId = options.groupId === undefined ? config.pixels.groupId : `${options.groupId}-pixels`;
    const pixelsSink = config.pixels.enabled ? new PixelsSink(ctx, { deliveryGroupId }) : undefined;
    this.pixels = config.pixels.enabled && config.pixels.deliver ? new BeaconDeliverer(ctx, { groupId: deliveryGroupId }) : undefined;
    this.#sinks = [
      new KafkaSink(backends.transport, codec),
      ...(options.warehouse === false
        ? []
        : [
            new ClickHouseSink(backends.warehouse, {
              ...CLICKHOUSE_SINK_DEFAULTS,
              batch: { maxRows: config.clickhouse.batchMaxRows, maxBytes: config.clickhouse.batchMaxBytes, lingerMs: config.clickhouse.batchLingerMs, writers: p.partitionsConcurrently },
            }),
          ]),
      ...(pixelsSink === undefined ? [] : [pixelsSink]),
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
    // An operator may have drained the pipeline before setup finished.
    if (this.#stopped !== undefined) return;
    await this.runtime.start();
    await this.pixels?.start();
    this.#phase = 'running';
  }

  /** Where the pipeline stands. */
  phase(): PipelinePhase {
    return this.#phase;
  }

  /** Operator routes: dead letters, vendor pauses, drain (admin token required). */
  routes(app: FastifyInstance): void {
    registerPipelineAdminRoutes(app, this.#ctx, this);
    const why = this.#ctx.config.pixels.enabled
      ? 'This pipeline process does not deliver beacons (pixels.deliver is off): pause or resume vendors on a process of the pixels role.'
      : 'This pipeline runs no vendor beacons (pixels.enabled is off); turn it on to pause or resume vendors.';
    registerPixelsAdminRoutes(app, this.#ctx, this.pixels, why);
    registerObservationRoute(app, this.#ctx);
  }

  /**
   * Stops fetching, lets in-flight batches finish and commit, closes the sinks. Safe to
   * call twice: an operator's drain and the engine's stop share one shutdown.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#phase = 'draining';
      await this.runtime.stop();
      for (const sink of this.#sinks) await sink.close();
      // Delivery last: what the pipeline recorded until the end may still be taken.
      await this.pixels?.stop();
      this.#phase = 'drained';
    })();
    return this.#stopped;
  }
}
