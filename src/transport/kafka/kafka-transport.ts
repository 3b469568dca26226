/**
 * The production transport: Apache Kafka through kafkajs. Topics are created through
 * the admin client, never by auto-creation: kafkajs on a KRaft broker fails when it
 * relies on topic auto-creation at subscribe time.
 */
import { Kafka, type Admin, type Message, type Producer, type SASLOptions } from 'kafkajs';
import { QuartileError, messageOf } from '../../core/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { partitionFor } from './murmur2.ts';
import type {
  Consumer,
  ConsumerOptions,
  OutgoingRecord,
  PartitionLag,
  PartitionOffsets,
  RecordPosition,
  TopicSpec,
  Transport,
} from '../transport.ts';
import { KafkaConsumer } from './kafka-consumer.ts';
import { kafkaLogCreator } from './log-bridge.ts';
import { installProduceEncoders } from './produce-encoders.ts';

// Before any produce: kafkajs binds its encoders when it loads its produce request.
const fastProduceEncoders = installProduceEncoders();

/** Options for the Kafka transport. */
export interface KafkaTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs: number;
  readonly ssl: boolean;
  readonly sasl?: { readonly username: string; readonly password: string } | undefined;
  readonly logger: Logger;
}

function unavailable(what: string, cause: unknown): QuartileError {
  return new QuartileError('TRANSPORT_UNAVAILABLE', `Kafka ${what} failed: ${messageOf(cause)}`, { retriable: true, cause });
}

/** A kafkajs message for a record, built without spreads (this runs once per record sent). */
function kafkaMessage(record: OutgoingRecord, partition: number): Message {
  const message: Message = { key: record.key, value: record.value, partition };
  if (record.headers !== undefined) message.headers = { ...record.headers };
  if (record.timestamp !== undefined) message.timestamp = String(record.timestamp);
  return message;
}

export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  readonly #kafka: Kafka;
  readonly #logger: Logger;
  readonly #consumers = new Set<KafkaConsumer>();
  readonly #partitionCounts = new Map<string, number>();
  #admin: Promise<Admin> | undefined;
  #producer: Promise<Producer> | undefined;

  constructor(options: KafkaTransportOptions) {
    this.#logger = options.logger;
    if (!fastProduceEncoders) this.#logger.warn('kafkajs loaded its produce encoders before Quartile could replace them; producing costs more CPU');
    const sasl: SASLOptions | undefined =
      options.sasl === undefined || options.sasl.username === ''
        ? undefined
        : { mechanism: 'plain', username: options.sasl.username, password: options.sasl.password };
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs,
      requestTimeout: 10_000,
      ssl: options.ssl,
      ...(sasl === undefined ? {} : { sasl }),
      logCreator: kafkaLogCreator(options.logger),
      // Fail fast enough that callers (the collector's 503, /readyz) can answer.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
    });
  }

  #adminClient(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    })().catch((cause: unknown) => {
      this.#admin = undefined;
      throw unavailable('admin connection', cause);
    });
    return this.#admin;
  }

  #producerClient(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      return producer;
    })().catch((cause: unknown) => {
      this.#producer = undefined;
      throw unavailable('producer connection', cause);
    });
    return this.#producer;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    const admin = await this.#adminClient();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor ?? 1,
            configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      }
      return missing.map((t) => t.name);
    } catch (cause) {
      if (cause instanceof QuartileError) throw cause;
      throw unavailable('topic creation', cause);
    }
  }

  async listTopics(): Promise<string[]> {
    const admin = await this.#adminClient();
    try {
      return (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    } catch (cause) {
      throw unavailable('topic listing', cause);
    }
  }

  async #partitionCount(topic: string): Promise<number> {
    const cached = this.#partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const admin = await this.#adminClient();
    let count: number;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      count = metadata.topics[0]?.partitions.length ?? 0;
    } catch (cause) {
      throw new QuartileError('TRANSPORT_UNKNOWN_TOPIC', `Topic ${topic} is not available: ${messageOf(cause)}. Run \`quartile topics create\`.`, {
        cause,
      });
    }
    if (count === 0) throw new QuartileError('TRANSPORT_UNKNOWN_TOPIC', `Topic ${topic} does not exist. Run \`quartile topics create\`.`);
    this.#partitionCounts.set(topic, count);
    return count;
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> {
    if (records.length === 0) return [];
    const partitions = await this.#partitionCount(topic);
    const producer = await this.#producerClient();
    // Partition here (same murmur2 as Kafka's Java client) so each record's offset can
    // be derived from its partition's base offset: kafkajs reports one per partition.
    const assigned = records.map((r) => partitionFor(topic, r.key, partitions));
    let metadata;
    try {
      metadata = await producer.send({
        topic,
        acks: -1,
        messages: records.map((r, i) => kafkaMessage(r, assigned[i]!)),
      });
    } catch (cause) {
      throw unavailable(`send to ${topic}`, cause);
    }
    const next = new Map<number, bigint>();
    for (const m of metadata) if (m.baseOffset !== undefined) next.set(m.partition, BigInt(m.baseOffset));
    return assigned.map((partition) => {
      const offset = next.get(partition) ?? -1n;
      next.set(partition, offset + 1n);
      return { topic, partition, offset: String(offset) };
    });
  }

  createConsumer(options: ConsumerOptions): Consumer {
    const consumer = new KafkaConsumer(this.#kafka, options, this.#logger);
    this.#consumers.add(consumer);
    return consumer;
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = await this.#adminClient();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition);
    } catch (cause) {
      throw unavailable(`offsets of ${topic}`, cause);
    }
  }

  async lag(groupId: string, topic: string): Promise<PartitionLag[]> {
    const admin = await this.#adminClient();
    try {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset]));
      return ends
        .map((end) => {
          const c = byPartition.get(end.partition);
          const has = c !== undefined && c !== '-1';
          const from = has ? BigInt(c) : BigInt(end.low);
          return {
            partition: end.partition,
            committed: has ? c : null,
            high: end.high,
            lag: Number(BigInt(end.high) - (from > BigInt(end.low) ? from : BigInt(end.low))),
          };
        })
        .sort((a, b) => a.partition - b.partition);
    } catch (cause) {
      throw unavailable(`lag of ${groupId} on ${topic}`, cause);
    }
  }

  async ping(): Promise<void> {
    const admin = await this.#adminClient();
    try {
      await admin.describeCluster();
    } catch (cause) {
      throw unavailable('cluster check', cause);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.stop().catch(() => {})));
    const admin = this.#admin;
    const producer = this.#producer;
    this.#admin = undefined;
    this.#producer = undefined;
    await Promise.all([
      admin?.then((a) => a.disconnect()).catch(() => {}),
      producer?.then((p) => p.disconnect()).catch(() => {}),
    ]);
  }
}
