/**
 * A consumer group in the embedded log: members, generations, partition assignment
 * and committed offsets. Assignment is round-robin over the sorted partitions of the
 * subscribed topics, recomputed whenever a member joins or leaves, as Kafka's group
 * coordinator would.
 */
import { QuartileError } from '../../core/errors.ts';
import type { TopicPartition } from '../transport.ts';

/** What the group needs from a member. */
export interface GroupMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  /** Called with the member's new partitions and the generation they belong to. */
  assign(partitions: readonly TopicPartition[], generation: number): void;
}

/** `topic/partition`, the key used in maps of partitions. */
export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

export class ConsumerGroup {
  readonly groupId: string;
  #members: GroupMember[] = [];
  #generation = 0;
  #owners = new Map<string, GroupMember>();
  readonly #committed = new Map<string, number>();
  readonly #partitionCount: (topic: string) => number;

  constructor(groupId: string, partitionCount: (topic: string) => number) {
    this.groupId = groupId;
    this.#partitionCount = partitionCount;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Adds a member and rebalances. */
  join(member: GroupMember): void {
    this.#members.push(member);
    this.#rebalance();
  }

  /** Removes a member and rebalances the others. */
  leave(member: GroupMember): void {
    this.#members = this.#members.filter((m) => m !== member);
    this.#rebalance();
  }

  /** The committed offset of a partition, if any. */
  committed(tp: TopicPartition): number | undefined {
    return this.#committed.get(tpKey(tp));
  }

  /**
   * Stores committed offsets. As on Kafka, a member may commit only partitions it
   * owns in the current generation; otherwise the commit fails as retriable.
   */
  commit(member: GroupMember, offsets: ReadonlyArray<TopicPartition & { offset: number }>): void {
    for (const o of offsets) {
      if (this.#owners.get(tpKey(o)) !== member) {
        throw new QuartileError(
          'TRANSPORT_REBALANCING',
          `Cannot commit ${tpKey(o)} for group ${this.groupId}: the partition is not assigned to this member (a rebalance moved it).`,
          { retriable: true },
        );
      }
    }
    for (const o of offsets) this.#committed.set(tpKey(o), o.offset);
  }

  #rebalance(): void {
    this.#generation += 1;
    const perMember = new Map<GroupMember, TopicPartition[]>(this.#members.map((m) => [m, []]));
    const topics = [...new Set(this.#members.flatMap((m) => m.topics))].sort();
    this.#owners = new Map();
    for (const topic of topics) {
      const subscribers = this.#members.filter((m) => m.topics.includes(topic)).sort((a, b) => a.memberId.localeCompare(b.memberId));
      const count = this.#partitionCount(topic);
      for (let partition = 0; partition < count && subscribers.length > 0; partition++) {
        const owner = subscribers[partition % subscribers.length]!;
        perMember.get(owner)!.push({ topic, partition });
        this.#owners.set(tpKey({ topic, partition }), owner);
      }
    }
    for (const [member, partitions] of perMember) member.assign(partitions, this.#generation);
  }
}
