/**
 * The pipeline runtime: a consumer-group member on ads.events.raw that runs the
 * processors in order over each batch of a partition, hands the results to every
 * sink, and commits the partition's offset only once every sink (the dead-letter
 * topic included) has acknowledged everything up to it.
 *
 * - Partitions run concurrently, up to a limit; within one, batches run in order.
 * - A sink that asks for a retry holds its partition (the batch is not finished, so
 *   nothing more is fetched for it) while other partitions go on: backpressure, not
 *   loss.
 * - A single bad event is dead-lettered; it never stops its partition.
 * - On stop (a drain), batches in flight still go to the sinks and are committed; one
 *   whose sink asks for a retry, or any batch on a rebalance, is abandoned uncommitted
 *   and read again by whoever owns the partition next (every effect is idempotent).
 */
import type { DeadLetter } from '../../schemas/types.ts';
import { QuartileError, isQuartileError, messageOf } from '../core/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { BatchContext, Consumer, RecordBatch, TopicPartition, Transport } from '../transport/transport.ts';
import { deadLetterFor } from './dead-letter.ts';
import { PipelineEvent, type PipelineOutput } from './pipeline-event.ts';
import type { Processor, StepContext, StepResult } from './processor.ts';
import { sinkRetryDelayMs } from './retry-policy.ts';
import type { Sink } from './sink.ts';
import { Watermarks, eventTimeOf } from './watermark.ts';

/** Writes dead letters; must not lose them (the runtime retries until it succeeds). */
export interface DeadLetterWriter {
  write(records: readonly DeadLetter[]): Promise<{ ok: true } | { ok: false; error: QuartileError }>;
}

/** Options of the runtime. */
export interface PipelineRuntimeOptions {
  readonly transport: Transport;
  readonly topic: string;
  readonly groupId: string;
  readonly partitionsConcurrently: number;
  readonly maxBatchRecords: number;
  readonly processors: readonly Processor[];
  readonly sinks: readonly Sink[];
  readonly deadLetters: DeadLetterWriter;
  /** Dead letters for outputs that a sink refused (sessions need encoding). */
  readonly deadLetterForOutput: (output: PipelineOutput, sink: string, error: QuartileError, now: number) => Promise<DeadLetter>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly allowedLatenessMs: number;
  readonly idleWatermarkMs: number;
  readonly now?: () => number;
}

/** Header set by `quartile dlq replay`: the topic/partition/offset the record was first read at. */
export const REPLAY_HEADER = 'quartile-replay-of';

/** Thrown to abandon a batch (stop or rebalance); it is not an error. */
class Abandoned extends Error {}

const tpKey = (topic: string, partition: number): string => `${topic}/${partition}`;

export class PipelineRuntime {
  readonly #o: PipelineRuntimeOptions;
  readonly #now: () => number;
  readonly #watermarks: Watermarks;
  readonly #locks = new Map<string, Promise<void>>();
  #consumer: Consumer | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  #running = false;
  /** Batches in progress, so stop() can wait for them. */
  #inFlight = 0;

  constructor(options: PipelineRuntimeOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#watermarks = new Watermarks({ allowedLatenessMs: options.allowedLatenessMs, idleMs: options.idleWatermarkMs });
  }

  /** Joins the group and starts consuming. */
  async start(): Promise<void> {
    const o = this.#o;
    this.#running = true;
    this.#consumer = o.transport.createConsumer({
      groupId: o.groupId,
      topics: [o.topic],
      fromBeginning: true,
      partitionsConcurrently: o.partitionsConcurrently,
      maxBatchRecords: o.maxBatchRecords,
      onRebalance: (event) => {
        for (const tp of event.revoked) void this.#release(tp);
        o.logger.info({ assigned: event.assigned.map((t) => t.partition), revoked: event.revoked.map((t) => t.partition) }, 'pipeline partitions rebalanced');
      },
    });
    await this.#consumer.run((batch, ctx) => this.#handle(batch, ctx));
    // Idle partitions still need their watermark to move, to close sessions.
    this.#idleTimer = setInterval(() => void this.#tickIdle(), 1_000);
    this.#idleTimer.unref();
    this.#lagTimer = setInterval(() => void this.#reportLag(), 5_000);
    this.#lagTimer.unref();
  }

  /** Partitions this process owns. */
  assignment(): TopicPartition[] {
    return this.#consumer?.assignment() ?? [];
  }

  /** Stops fetching, finishes or abandons in-flight batches, commits, leaves the group. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#idleTimer);
    clearInterval(this.#lagTimer);
    const consumer = this.#consumer;
    if (consumer !== undefined) {
      consumer.pause(consumer.assignment());
      while (this.#inFlight > 0) await new Promise((r) => setTimeout(r, 20));
      await consumer.stop();
      // The last commits moved the lag: report it, or the gauge would keep a stale value.
      await this.#reportLag();
    }
    for (const p of this.#o.processors) await p.close?.();
  }

  async #release(tp: TopicPartition): Promise<void> {
    this.#watermarks.forget(tpKey(tp.topic, tp.partition));
    for (const p of this.#o.processors) await p.release?.(tp.partition);
  }

  /** Runs `task` after any earlier task of the same partition (batches and idle ticks never overlap). */
  #serial(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(task);
    this.#locks.set(
      key,
      next.catch(() => {}),
    );
    return next;
  }

  #handle(batch: RecordBatch, ctx: BatchContext): Promise<void> {
    return this.#serial(tpKey(batch.topic, batch.partition), async () => {
      this.#inFlight++;
      try {
        await this.#process(batch, ctx);
      } catch (error) {
        if (error instanceof Abandoned) throw error; // not committed; read again later
        this.#o.logger.warn({ partition: batch.partition, err: messageOf(error) }, 'batch failed; it will be read again');
        throw error;
      } finally {
        this.#inFlight--;
      }
    });
  }

  #stepContext(topic: string, partition: number): StepContext {
    return { topic, partition, logger: this.#o.logger, now: this.#now, closedSessions: [], afterDelivery: [] };
  }

  async #process(batch: RecordBatch, ctx: BatchContext): Promise<void> {
    const o = this.#o;
    const now = this.#now();
    const step = this.#stepContext(batch.topic, batch.partition);
    let alive = batch.records.map((record) => {
      const replayOf = record.headers[REPLAY_HEADER]?.toString().split('/');
      return replayOf !== undefined && replayOf.length === 3
        ? new PipelineEvent({ record, originTopic: replayOf[0]!, originPartition: Number(replayOf[1]), originOffset: replayOf[2]! })
        : new PipelineEvent({ record, originTopic: record.topic, originPartition: record.partition, originOffset: record.offset });
    });
    const deadLetters: DeadLetter[] = [];

    for (const processor of o.processors) {
      if (alive.length === 0) break;
      const started = performance.now();
      o.metrics.eventsIn.inc({ stage: processor.name }, alive.length);
      const results = await this.#runStep(processor, alive, step);
      const next: PipelineEvent[] = [];
      results.forEach((result, i) => {
        const event = alive[i]!;
        if (result.kind === 'emit') next.push(event);
        else if (result.kind === 'drop') o.metrics.dropped.inc({ stage: processor.name, reason: result.reason });
        else {
          o.metrics.deadLettered.inc({ stage: processor.name, code: result.error.code });
          deadLetters.push(deadLetterFor(event, processor.name, result.error, now));
        }
      });
      o.metrics.eventsOut.inc({ stage: processor.name }, next.length);
      o.metrics.stageSeconds.observe({ stage: processor.name }, (performance.now() - started) / 1000);
      alive = next;
    }

    const key = tpKey(batch.topic, batch.partition);
    // A plain loop: flatMap's one-element array per event was garbage on the hot path.
    const eventTimes: number[] = [];
    for (const e of alive) if (e.raw !== undefined) eventTimes.push(eventTimeOf(e.raw));
    this.#watermarks.observe(key, eventTimes, now);
    await this.#onWatermark(key, step);

    const outputs: PipelineOutput[] = [
      ...alive.map((event): PipelineOutput => ({ kind: 'event', event })),
      ...step.closedSessions.map((session): PipelineOutput => ({ kind: 'session', session, partition: batch.partition })),
    ];
    deadLetters.push(...(await this.#deliverToSinks(outputs, ctx)));
    if (deadLetters.length > 0) await this.#deliverDeadLetters(deadLetters, ctx);
    for (const task of step.afterDelivery) await task();

    const last = batch.records.at(-1)!.offset;
    try {
      await this.#consumer!.commit([{ topic: batch.topic, partition: batch.partition, offset: String(BigInt(last) + 1n) }]);
    } catch (error) {
      // The partition moved: the new owner re-reads from the last commit (idempotent).
      o.logger.warn({ partition: batch.partition, err: messageOf(error) }, 'commit failed after a rebalance');
    }
  }

  /** Runs one processor over the events; isolates an event that makes it throw. */
  async #runStep(processor: Processor, events: readonly PipelineEvent[], step: StepContext): Promise<StepResult[]> {
    try {
      if (processor.processBatch !== undefined) return await processor.processBatch(events, step);
      const results: StepResult[] = [];
      for (const event of events) {
        const result = processor.process(event, step);
        // A synchronous step's result is taken as is: awaiting it would cost a microtask
        // per event and hand the loop to other partitions in the middle of the batch.
        results.push(result instanceof Promise ? await result : result);
      }
      return results;
    } catch (error) {
      // An outage (state or registry unreachable): the whole batch waits and is retried.
      if (isQuartileError(error) && error.retriable) throw error;
      // A bug triggered by some event: find it, one event at a time, so the rest go on.
      this.#o.logger.error({ stage: processor.name, err: messageOf(error) }, 'processor failed on a batch; isolating the event that causes it');
      const results: StepResult[] = [];
      for (const event of events) {
        try {
          results.push(await processor.process(event, step));
        } catch (inner) {
          if (isQuartileError(inner) && inner.retriable) throw inner;
          results.push({
            kind: 'fail',
            error: new QuartileError('PIPELINE_INTERNAL_ERROR', `${processor.name} failed on this event: ${messageOf(inner)}`, { stage: processor.name, cause: inner }),
          });
        }
      }
      return results;
    }
  }

  async #onWatermark(key: string, step: StepContext): Promise<void> {
    const watermark = this.#watermarks.watermark(key, this.#now());
    if (!Number.isFinite(watermark)) return;
    for (const processor of this.#o.processors) await processor.onWatermark?.(watermark, step);
  }

  /** Delivers outputs to every sink that takes them; returns dead letters for what sinks refused. */
  async #deliverToSinks(outputs: readonly PipelineOutput[], ctx: BatchContext | undefined): Promise<DeadLetter[]> {
    if (outputs.length === 0) return [];
    const o = this.#o;
    const results = await Promise.all(
      o.sinks.map(async (sink) => {
        const items = outputs.filter((output) => sink.accepts(output));
        if (items.length === 0) return [];
        const failed = await this.#deliver(sink, items, ctx);
        const now = this.#now();
        return Promise.all(
          [...failed].map(([index, error]) => {
            o.metrics.deadLettered.inc({ stage: `sinks/${sink.name}`, code: error.code });
            return o.deadLetterForOutput(items[index]!, `sinks/${sink.name}`, error, now);
          }),
        );
      }),
    );
    return results.flat();
  }

  /** Writes to one sink until it delivers or refuses items for good; waits (backpressure) on retry. */
  async #deliver(sink: Sink, items: readonly PipelineOutput[], ctx: BatchContext | undefined): Promise<ReadonlyMap<number, QuartileError>> {
    const o = this.#o;
    const started = performance.now();
    for (let attempt = 0; ; attempt++) {
      // Stopping lets a batch in flight make its first try (a drain finishes what it
      // started) but never waits out a retry.
      if ((attempt > 0 && !this.#running) || ctx?.isStale() === true) throw new Abandoned('stopping or rebalanced');
      const outcome = await sink.write(items, AbortSignal.timeout(60_000));
      switch (outcome.status) {
        case 'delivered':
          o.metrics.eventsOut.inc({ stage: `sinks/${sink.name}` }, items.length);
          o.metrics.stageSeconds.observe({ stage: `sinks/${sink.name}` }, (performance.now() - started) / 1000);
          return new Map();
        case 'partial':
          o.metrics.eventsOut.inc({ stage: `sinks/${sink.name}` }, items.length - outcome.failed.size);
          return outcome.failed;
        case 'reject':
          return new Map(items.map((_, i) => [i, outcome.error]));
        case 'retry': {
          const delay = sinkRetryDelayMs(attempt);
          if (attempt === 0 || attempt % 10 === 0) {
            o.logger.warn({ sink: sink.name, attempt, retryInMs: delay, err: outcome.error.message }, 'sink asked for a retry; holding the partition');
          }
          o.metrics.sinkRetries.inc({ sink: sink.name });
          await new Promise((r) => setTimeout(r, delay));
          await ctx?.heartbeat().catch(() => {});
        }
      }
    }
  }

  async #deliverDeadLetters(records: readonly DeadLetter[], ctx: BatchContext | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if ((attempt > 0 && !this.#running) || ctx?.isStale() === true) throw new Abandoned('stopping or rebalanced');
      const result = await this.#o.deadLetters.write(records);
      if (result.ok) return;
      this.#o.logger.warn({ attempt, err: result.error.message }, 'dead-letter topic unavailable; holding the partition');
      await new Promise((r) => setTimeout(r, sinkRetryDelayMs(attempt)));
      await ctx?.heartbeat().catch(() => {});
    }
  }

  /** Moves the watermark of idle partitions and delivers the sessions it closes. */
  async #tickIdle(): Promise<void> {
    if (!this.#running || this.#consumer === undefined) return;
    for (const tp of this.#consumer.assignment()) {
      const key = tpKey(tp.topic, tp.partition);
      await this.#serial(key, async () => {
        if (!this.#running) return;
        const step = this.#stepContext(tp.topic, tp.partition);
        try {
          await this.#onWatermark(key, step);
          if (step.closedSessions.length === 0) return;
          const outputs = step.closedSessions.map((session): PipelineOutput => ({ kind: 'session', session, partition: tp.partition }));
          const deadLetters = await this.#deliverToSinks(outputs, undefined);
          if (deadLetters.length > 0) await this.#deliverDeadLetters(deadLetters, undefined);
          for (const task of step.afterDelivery) await task();
        } catch (error) {
          if (!(error instanceof Abandoned)) this.#o.logger.warn({ partition: tp.partition, err: messageOf(error) }, 'idle watermark tick failed; it will run again');
        }
      }).catch(() => {});
    }
  }

  async #reportLag(): Promise<void> {
    try {
      for (const p of await this.#o.transport.lag(this.#o.groupId, this.#o.topic)) {
        this.#o.metrics.consumerLag.set({ group: this.#o.groupId, topic: this.#o.topic, partition: String(p.partition) }, p.lag);
      }
    } catch {
      // Lag is best effort; /readyz reports a transport outage.
    }
  }
}
