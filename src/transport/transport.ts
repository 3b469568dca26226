/**
 * The transport seam: a partitioned, replayable event log. Kafka in production, an
 * in-process log on one machine. Processors and the collector see only this
 * interface, never kafkajs.
 *
 * Offsets are decimal strings (Kafka offsets are int64). A committed offset is the
 * NEXT offset to read, as in Kafka.
 */

/** A topic Quartile needs. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Broker-side topic config, e.g. `retention.ms`. Ignored by the embedded log. */
  readonly config?: Readonly<Record<string, string>>;
}

/** A record to append. The key decides the partition (murmur2, as Kafka's Java client). */
export interface OutgoingRecord {
  readonly key: string | Buffer | null;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string | Buffer>>;
  /** Milliseconds since the epoch; defaults to now. */
  readonly timestamp?: number;
}

/** Where an appended record landed. */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A record read back from the log. */
export interface ConsumedRecord extends RecordPosition {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
}

/** Records from one partition, in offset order. */
export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** The partition's end offset when the batch was fetched (for lag). */
  readonly highWatermark: string;
}

/** A partition of a topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** An offset to commit: the next one the group should read. */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: string;
}

/** Controls a batch handler has while it runs. */
export interface BatchContext {
  /** False once the consumer is stopping; a handler may finish early. */
  isRunning(): boolean;
  /** True when a rebalance took this partition away; results may be abandoned. */
  isStale(): boolean;
  /** Keeps group membership alive during long work. */
  heartbeat(): Promise<void>;
  /**
   * Marks records up to and including `offset` as processed, so the next fetch starts
   * after it. When the handler resolves without throwing, the whole batch is marked.
   * This is fetch progress, NOT a commit: commits are explicit (see Consumer.commit).
   */
  resolveOffset(offset: string): void;
}

/** Handles one batch. Throwing makes the unresolved rest of the batch be fetched again. */
export type BatchHandler = (batch: RecordBatch, ctx: BatchContext) => Promise<void>;

/** A change of the partitions this consumer owns. */
export interface RebalanceEvent {
  readonly assigned: readonly TopicPartition[];
  readonly revoked: readonly TopicPartition[];
}

/** Options for a group consumer. */
export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a group with no committed offset starts; default true (earliest). */
  readonly fromBeginning?: boolean;
  /** How many partitions are handled at once. Default 1. */
  readonly partitionsConcurrently?: number;
  /** Most records in one batch. Default 500. */
  readonly maxBatchRecords?: number;
  /** Group session timeout (Kafka). Default 30 s. */
  readonly sessionTimeoutMs?: number;
  /** Called after each rebalance with what changed. */
  readonly onRebalance?: (event: RebalanceEvent) => void;
}

/** A member of a consumer group. */
export interface Consumer {
  /** Joins the group and starts delivering batches; resolves once running. */
  run(handler: BatchHandler): Promise<void>;
  /** Commits offsets (the next offset to read) for the group. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching from these partitions until resumed. Nothing is dropped. */
  pause(partitions: readonly TopicPartition[]): void;
  /** Resumes fetching. */
  resume(partitions: readonly TopicPartition[]): void;
  /** Partitions currently paused. */
  paused(): TopicPartition[];
  /** Partitions this member owns now. */
  assignment(): TopicPartition[];
  /** Stops fetching, waits for in-flight handlers, and leaves the group. */
  stop(): Promise<void>;
}

/** Offsets of one partition. */
export interface PartitionOffsets {
  readonly partition: number;
  /** First offset still in the log. */
  readonly low: string;
  /** The offset the next appended record will get. */
  readonly high: string;
}

/** Lag of one partition for a group. */
export interface PartitionLag {
  readonly partition: number;
  /** The group's committed offset, or null when it has none. */
  readonly committed: string | null;
  readonly high: string;
  readonly lag: number;
}

/** The event log seam. */
export interface Transport {
  readonly kind: 'kafka' | 'embedded';
  /** Creates missing topics (idempotent); returns the names it created. */
  ensureTopics(topics: readonly TopicSpec[]): Promise<string[]>;
  /** Names of existing topics. */
  listTopics(): Promise<string[]>;
  /**
   * Appends records and resolves once the log acknowledged them (acks=all on Kafka).
   * Positions are returned in the order of `records`.
   */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]>;
  /** A new group member. Call `run` to start it. */
  createConsumer(options: ConsumerOptions): Consumer;
  /** Low and high offsets of each partition. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets and lag of a group on a topic. */
  lag(groupId: string, topic: string): Promise<PartitionLag[]>;
  /** Throws a TRANSPORT_UNAVAILABLE error when the log cannot be reached. */
  ping(): Promise<void>;
  /** Closes producers, admin connections and consumers created here. */
  close(): Promise<void>;
}
