/**
 * The embedded transport: an in-process partitioned log with offsets, commits and
 * consumer groups, for running Quartile in one process with no Kafka. It keeps
 * Kafka's semantics that the pipeline relies on: per-key ordering (same partitioner),
 * committed offsets as "next to read", redelivery of unresolved records, and
 * rebalancing when members come and go. Records live in memory, bounded by a
 * per-partition byte budget; they do not survive the process.
 */
import { QuartileError } from '../../core/errors.ts';
import { partitionFor } from '../kafka/murmur2.ts';
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
import { EmbeddedConsumer } from './consumer.ts';
import { ConsumerGroup } from './group.ts';
import { PartitionLog } from './partition-log.ts';

/** Options for the embedded log. */
export interface EmbeddedTransportOptions {
  /** Bytes kept per partition before the oldest records are dropped. Default 256 MiB. */
  readonly retentionBytesPerPartition?: number;
}

export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  readonly #topics = new Map<string, PartitionLog[]>();
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #consumers = new Set<EmbeddedConsumer>();
  readonly #retentionBytes: number;
  #closed = false;

  constructor(options: EmbeddedTransportOptions = {}) {
    this.#retentionBytes = options.retentionBytesPerPartition ?? 256 * 1024 * 1024;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    this.#assertOpen();
    const created: string[] = [];
    for (const spec of topics) {
      if (this.#topics.has(spec.name)) continue;
      this.#topics.set(
        spec.name,
        Array.from({ length: spec.partitions }, (_, p) => new PartitionLog(spec.name, p, this.#retentionBytes)),
      );
      created.push(spec.name);
    }
    return created;
  }

  async listTopics(): Promise<string[]> {
    return [...this.#topics.keys()].sort();
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> {
    this.#assertOpen();
    const partitions = this.#partitions(topic);
    const touched = new Set<PartitionLog>();
    const positions = records.map((record) => {
      const log = partitions[partitionFor(topic, record.key, partitions.length)]!;
      touched.add(log);
      return { topic, partition: log.partition, offset: String(log.append(record)) };
    });
    for (const log of touched) log.appended.notify();
    return positions;
  }

  createConsumer(options: ConsumerOptions): Consumer {
    this.#assertOpen();
    for (const topic of options.topics) this.#partitions(topic);
    const consumer = new EmbeddedConsumer(options, {
      partition: (topic, partition) => this.#partitions(topic)[partition]!,
      group: (groupId) => this.#group(groupId),
      onClose: (c) => this.#consumers.delete(c),
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    return this.#partitions(topic).map((log) => ({ partition: log.partition, low: String(log.low), high: String(log.high) }));
  }

  async lag(groupId: string, topic: string): Promise<PartitionLag[]> {
    const group = this.#group(groupId);
    return this.#partitions(topic).map((log) => {
      const committed = group.committed({ topic, partition: log.partition });
      const from = committed === undefined ? log.low : Math.max(committed, log.low);
      return {
        partition: log.partition,
        committed: committed === undefined ? null : String(committed),
        high: String(log.high),
        lag: log.high - from,
      };
    });
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#consumers].map((c) => c.stop()));
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new QuartileError('TRANSPORT_CLOSED', 'The embedded log was used after close().');
  }

  #partitions(topic: string): PartitionLog[] {
    const partitions = this.#topics.get(topic);
    if (partitions === undefined) {
      throw new QuartileError('TRANSPORT_UNKNOWN_TOPIC', `Topic ${topic} does not exist. Run \`quartile topics create\` (start does it too).`);
    }
    return partitions;
  }

  #group(groupId: string): ConsumerGroup {
    let group = this.#groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(groupId, (topic) => this.#partitions(topic).length);
      this.#groups.set(groupId, group);
    }
    return group;
  }
}
