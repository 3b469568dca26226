/**
 * A member of an embedded consumer group. Each owned partition gets a fetch loop;
 * at most `partitionsConcurrently` handlers run at once. The loops sleep on a
 * notifier instead of polling, and wake on new records, resume, stop or rebalance.
 */
import { randomUUID } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import { Notifier } from '../../core/notifier.ts';
import { QuartileError } from '../../core/errors.ts';
import type {
  BatchContext,
  BatchHandler,
  Consumer,
  ConsumerOptions,
  RebalanceEvent,
  TopicPartition,
  TopicPartitionOffset,
} from '../transport.ts';
import { tpKey, type ConsumerGroup, type GroupMember } from './group.ts';
import type { PartitionLog } from './partition-log.ts';

/** How the consumer reaches the log it belongs to. */
export interface EmbeddedLogAccess {
  partition(topic: string, partition: number): PartitionLog;
  group(groupId: string): ConsumerGroup;
  onClose(consumer: EmbeddedConsumer): void;
}

/** Wait before re-delivering a batch whose handler threw. */
const REDELIVERY_DELAY_MS = 200;

export class EmbeddedConsumer implements Consumer, GroupMember {
  readonly memberId = randomUUID();
  readonly topics: readonly string[];
  readonly #options: ConsumerOptions;
  readonly #log: EmbeddedLogAccess;
  readonly #group: ConsumerGroup;
  readonly #changed = new Notifier();
  readonly #limit: LimitFunction;
  #handler: BatchHandler | undefined;
  #running = false;
  #assignment: TopicPartition[] = [];
  #generation = 0;
  readonly #positions = new Map<string, number>();
  readonly #paused = new Set<string>();
  readonly #loops = new Map<string, Promise<void>>();

  constructor(options: ConsumerOptions, log: EmbeddedLogAccess) {
    this.#options = options;
    this.topics = [...options.topics];
    this.#log = log;
    this.#group = log.group(options.groupId);
    this.#limit = pLimit(options.partitionsConcurrently ?? 1);
  }

  async run(handler: BatchHandler): Promise<void> {
    if (this.#handler !== undefined) throw new Error('Consumer.run called twice');
    this.#handler = handler;
    this.#running = true;
    this.#group.join(this);
  }

  assign(partitions: readonly TopicPartition[], generation: number): void {
    const before = new Set(this.#assignment.map(tpKey));
    const after = new Set(partitions.map(tpKey));
    const event: RebalanceEvent = {
      assigned: partitions.filter((tp) => !before.has(tpKey(tp))),
      revoked: this.#assignment.filter((tp) => !after.has(tpKey(tp))),
    };
    this.#assignment = [...partitions];
    this.#generation = generation;
    for (const tp of event.revoked) this.#positions.delete(tpKey(tp));
    this.#changed.notify();
    if (this.#running) for (const tp of partitions) this.#startLoop(tp);
    if (event.assigned.length > 0 || event.revoked.length > 0) this.#options.onRebalance?.(event);
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.#handler === undefined) throw new QuartileError('TRANSPORT_CLOSED', 'Commit on a consumer that is not running.');
    this.#group.commit(this, offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })));
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.add(tpKey(tp));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.#paused.delete(tpKey(tp));
    this.#changed.notify();
  }

  paused(): TopicPartition[] {
    return this.#assignment.filter((tp) => this.#paused.has(tpKey(tp)));
  }

  assignment(): TopicPartition[] {
    return [...this.#assignment];
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#changed.notify();
    await Promise.all(this.#loops.values());
    this.#group.leave(this);
    this.#log.onClose(this);
  }

  #owns(tp: TopicPartition, generation: number): boolean {
    return this.#running && this.#generation === generation;
  }

  #startLoop(tp: TopicPartition): void {
    const key = tpKey(tp);
    if (this.#loops.has(key)) return;
    const generation = this.#generation;
    const loop = this.#fetchLoop(tp, generation).finally(() => this.#loops.delete(key));
    this.#loops.set(key, loop);
  }

  /** The offset to read next: in-memory position, else the group's commit, else the reset policy. */
  #position(tp: TopicPartition, log: PartitionLog): number {
    const key = tpKey(tp);
    let position = this.#positions.get(key) ?? this.#group.committed(tp);
    if (position === undefined) position = this.#options.fromBeginning === false ? log.high : log.low;
    if (position < log.low) position = log.low; // retention removed what the group had not read
    return position;
  }

  async #fetchLoop(tp: TopicPartition, generation: number): Promise<void> {
    const log = this.#log.partition(tp.topic, tp.partition);
    const key = tpKey(tp);
    const maxRecords = this.#options.maxBatchRecords ?? 500;
    let generationNow = generation;
    while (this.#running && this.#assignment.some((a) => tpKey(a) === key)) {
      generationNow = this.#generation;
      if (this.#paused.has(key)) {
        await this.#changed.wait(1000);
        continue;
      }
      const from = this.#position(tp, log);
      const records = log.read(from, maxRecords);
      if (records.length === 0) {
        await Promise.race([log.appended.wait(1000), this.#changed.wait()]);
        continue;
      }
      let resolved = from - 1;
      const ctx: BatchContext = {
        isRunning: () => this.#running,
        isStale: () => !this.#owns(tp, generationNow) || !this.#assignment.some((a) => tpKey(a) === key),
        heartbeat: async () => {},
        resolveOffset: (offset) => {
          resolved = Math.max(resolved, Number(offset));
        },
      };
      const batch = { topic: tp.topic, partition: tp.partition, records, highWatermark: String(log.high) };
      try {
        await this.#limit(() => this.#handler!(batch, ctx));
        resolved = Number(records.at(-1)!.offset);
      } catch {
        // As on Kafka: what the handler did not resolve is fetched again, after a pause.
        await new Promise((r) => setTimeout(r, REDELIVERY_DELAY_MS).unref());
      }
      if (!ctx.isStale()) this.#positions.set(key, resolved + 1);
    }
  }
}
