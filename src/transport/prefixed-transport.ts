/**
 * Puts every topic of one Quartile deployment under a name prefix
 * (`kafka.topicPrefix`, e.g. `staging.`), so several deployments — or test runs — can
 * share one Kafka cluster without reading each other's events. Code above the seam
 * keeps using the logical names (`ads.events.raw`); only the broker sees the prefix.
 *
 * Consumer groups get the prefix too: two deployments whose members share a group id
 * but subscribe to different topics would otherwise rebalance each other forever, and
 * a member would be assigned partitions of topics it never subscribed to (kafkajs logs
 * them as "topicsNotSubscribed" and the consumer reads nothing).
 */
import type {
  Consumer,
  ConsumerOptions,
  OutgoingRecord,
  PartitionLag,
  PartitionOffsets,
  RecordPosition,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
  Transport,
} from './transport.ts';

export class PrefixedTransport implements Transport {
  readonly #inner: Transport;
  readonly #prefix: string;

  constructor(inner: Transport, prefix: string) {
    this.#inner = inner;
    this.#prefix = prefix;
  }

  get kind(): Transport['kind'] {
    return this.#inner.kind;
  }

  #out(topic: string): string {
    return `${this.#prefix}${topic}`;
  }

  #in(topic: string): string {
    return topic.startsWith(this.#prefix) ? topic.slice(this.#prefix.length) : topic;
  }

  #tpIn<T extends TopicPartition>(tp: T): T {
    return { ...tp, topic: this.#in(tp.topic) };
  }

  #tpOut<T extends TopicPartition>(tp: T): T {
    return { ...tp, topic: this.#out(tp.topic) };
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    return (await this.#inner.ensureTopics(topics.map((t) => ({ ...t, name: this.#out(t.name) })))).map((t) => this.#in(t));
  }

  async listTopics(): Promise<string[]> {
    return (await this.#inner.listTopics()).filter((t) => t.startsWith(this.#prefix)).map((t) => this.#in(t));
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> {
    // Every position is of `topic`: no need to strip the prefix record by record.
    return (await this.#inner.send(this.#out(topic), records)).map((p) => ({ topic, partition: p.partition, offset: p.offset }));
  }

  createConsumer(options: ConsumerOptions): Consumer {
    const inner = this.#inner.createConsumer({
      ...options,
      groupId: this.#out(options.groupId),
      topics: options.topics.map((t) => this.#out(t)),
      ...(options.onRebalance === undefined
        ? {}
        : { onRebalance: (e) => options.onRebalance!({ assigned: e.assigned.map((tp) => this.#tpIn(tp)), revoked: e.revoked.map((tp) => this.#tpIn(tp)) }) }),
    });
    return {
      run: (handler) =>
        inner.run((batch, ctx) => {
          // A batch is of one topic: its logical name is worked out once, not per record.
          const topic = this.#in(batch.topic);
          return handler({ ...batch, topic, records: batch.records.map((r) => ({ ...r, topic })) }, ctx);
        }),
      commit: (offsets: readonly TopicPartitionOffset[]) => inner.commit(offsets.map((o) => this.#tpOut(o))),
      pause: (partitions) => inner.pause(partitions.map((tp) => this.#tpOut(tp))),
      resume: (partitions) => inner.resume(partitions.map((tp) => this.#tpOut(tp))),
      paused: () => inner.paused().map((tp) => this.#tpIn(tp)),
      assignment: () => inner.assignment().map((tp) => this.#tpIn(tp)),
      stop: () => inner.stop(),
    };
  }

  offsets(topic: string): Promise<PartitionOffsets[]> {
    return this.#inner.offsets(this.#out(topic));
  }

  lag(groupId: string, topic: string): Promise<PartitionLag[]> {
    return this.#inner.lag(this.#out(groupId), this.#out(topic));
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
