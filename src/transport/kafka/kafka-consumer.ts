/**
 * A consumer group member on Kafka through kafkajs. Offsets are never auto-committed:
 * the pipeline commits only what every sink acknowledged. kafkajs fetches from the
 * last *resolved* offset, so a batch the handler did not finish is fetched again,
 * which is the same redelivery rule as the embedded log.
 */
import type { Consumer as KafkaJsConsumer, Kafka, EachBatchPayload, IHeaders } from 'kafkajs';
import { QuartileError, messageOf } from '../../core/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type {
  BatchHandler,
  Consumer,
  ConsumedRecord,
  ConsumerOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../transport.ts';

/** Wait before re-delivering a batch whose handler threw. */
const REDELIVERY_DELAY_MS = 200;

function key(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

function groupByTopic(partitions: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps }));
}

const NO_HEADERS: ConsumedRecord['headers'] = Object.freeze({});

/** A record's headers as Buffers; records without any (nearly all) share one empty object. */
function headersOf(headers: IHeaders | undefined): ConsumedRecord['headers'] {
  if (headers === undefined) return NO_HEADERS;
  let out: Record<string, Buffer | undefined> | undefined;
  for (const k in headers) {
    const v = headers[k];
    out ??= {};
    out[k] = v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(String(v));
  }
  return out ?? NO_HEADERS;
}

export class KafkaConsumer implements Consumer {
  readonly #options: ConsumerOptions;
  readonly #consumer: KafkaJsConsumer;
  readonly #logger: Logger;
  #assignment: TopicPartition[] = [];
  readonly #paused = new Map<string, TopicPartition>();
  #running = false;

  constructor(kafka: Kafka, options: ConsumerOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      retry: { retries: 10, initialRetryTime: 200 },
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      const next = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      const before = new Set(this.#assignment.map(key));
      const after = new Set(next.map(key));
      const event = {
        assigned: next.filter((tp) => !before.has(key(tp))),
        revoked: this.#assignment.filter((tp) => !after.has(key(tp))),
      };
      this.#assignment = next;
      // Pauses do not survive a rebalance in kafkajs; re-apply those still owned.
      const stillPaused = [...this.#paused.values()].filter((tp) => after.has(key(tp)));
      if (stillPaused.length > 0) this.#consumer.pause(groupByTopic(stillPaused));
      if (event.assigned.length > 0 || event.revoked.length > 0) this.#options.onRebalance?.(event);
    });
  }

  async run(handler: BatchHandler): Promise<void> {
    try {
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: [...this.#options.topics], fromBeginning: this.#options.fromBeginning ?? true });
    } catch (cause) {
      throw new QuartileError('TRANSPORT_UNAVAILABLE', `Kafka consumer for group ${this.#options.groupId} could not start: ${messageOf(cause)}`, {
        retriable: true,
        cause,
      });
    }
    this.#running = true;
    const maxRecords = this.#options.maxBatchRecords ?? 500;
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsConcurrently ?? 1,
      eachBatch: (payload) => this.#eachBatch(payload, handler, maxRecords),
    });
  }

  async #eachBatch(payload: EachBatchPayload, handler: BatchHandler, maxRecords: number): Promise<void> {
    const { batch } = payload;
    const records: ConsumedRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      timestamp: Number(m.timestamp),
      headers: headersOf(m.headers),
    }));
    // kafkajs batches are sized in bytes; the pipeline wants a bounded record count.
    for (let start = 0; start < records.length; start += maxRecords) {
      if (!payload.isRunning() || payload.isStale()) return;
      const chunk = records.slice(start, start + maxRecords);
      try {
        await handler(
          { topic: batch.topic, partition: batch.partition, records: chunk, highWatermark: batch.highWatermark },
          {
            isRunning: payload.isRunning,
            isStale: payload.isStale,
            heartbeat: payload.heartbeat,
            resolveOffset: payload.resolveOffset,
          },
        );
        payload.resolveOffset(chunk.at(-1)!.offset);
      } catch (error) {
        this.#logger.warn({ topic: batch.topic, partition: batch.partition, err: messageOf(error) }, 'batch handler failed; the batch will be fetched again');
        await new Promise((r) => setTimeout(r, REDELIVERY_DELAY_MS));
        return;
      }
      await payload.heartbeat();
    }
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    try {
      await this.#consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
    } catch (cause) {
      throw new QuartileError('TRANSPORT_REBALANCING', `Commit for group ${this.#options.groupId} failed: ${messageOf(cause)}`, {
        retriable: true,
        cause,
      });
    }
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.set(key(tp), tp);
    if (this.#running) this.#consumer.pause(groupByTopic(partitions));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(key(tp));
    if (this.#running) this.#consumer.resume(groupByTopic(partitions));
  }

  paused(): TopicPartition[] {
    return [...this.#paused.values()].filter((tp) => this.#assignment.some((a) => key(a) === key(tp)));
  }

  assignment(): TopicPartition[] {
    return [...this.#assignment];
  }

  async stop(): Promise<void> {
    if (!this.#running) {
      await this.#consumer.disconnect().catch(() => {});
      return;
    }
    this.#running = false;
    // stop() waits for the in-flight eachBatch; disconnect() leaves the group.
    await this.#consumer.stop();
    await this.#consumer.disconnect();
  }
}
