/**
 * Which offsets beacon delivery may commit. Delivery takes records as they come and
 * works on many at once, but a partition's offset may only move past a record once
 * every beacon in it is settled: final (its outcome recorded), or handed on to the
 * retry topic. Each record gets a ticket counting its unsettled beacons; a partition's
 * commit is the offset after the last of its leading settled tickets.
 *
 * When a rebalance takes a partition away, its tickets are abandoned: what they still
 * hold is neither committed nor handed on here, and the partition's new owner reads
 * those records again (every effect is guarded by the ledger).
 */
import type { TopicPartitionOffset } from '../../src/transport/transport.ts';

/** One record's unsettled beacons. */
export interface Ticket {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  pending: number;
  /** Its partition was taken away: nothing it holds counts any more. */
  abandoned: boolean;
}

interface PartitionTickets {
  readonly topic: string;
  readonly partition: number;
  tickets: Ticket[];
  head: number;
  /** The offset after the leading settled tickets (the next one to read), or -1. */
  position: number;
  /** The position last acknowledged as committed, or -1. */
  acked: number;
}

const key = (topic: string, partition: number): string => `${topic}/${partition}`;

export class CommitTracker {
  readonly #partitions = new Map<string, PartitionTickets>();
  #unsettled = 0;

  /** Records taken and not settled, across partitions. */
  get unsettled(): number {
    return this.#unsettled;
  }

  /**
   * A ticket for the record at `offset` with `pending` beacons; undefined when that
   * record was already taken (a fetch delivered it twice).
   */
  open(topic: string, partition: number, offset: number, pending: number): Ticket | undefined {
    const k = key(topic, partition);
    let p = this.#partitions.get(k);
    if (p === undefined) {
      p = { topic, partition, tickets: [], head: 0, position: -1, acked: -1 };
      this.#partitions.set(k, p);
    }
    const last = p.tickets.length > p.head ? p.tickets[p.tickets.length - 1]!.offset : p.position - 1;
    if (offset <= last) return undefined;
    const ticket: Ticket = { topic, partition, offset, pending, abandoned: false };
    p.tickets.push(ticket);
    if (pending > 0) this.#unsettled++;
    return ticket;
  }

  /** Settles `n` of a ticket's beacons. */
  settle(ticket: Ticket, n = 1): void {
    if (ticket.pending <= 0) return;
    ticket.pending -= n;
    if (ticket.pending <= 0 && !ticket.abandoned) this.#unsettled--;
  }

  /** Abandons a partition that was taken away. */
  revoke(topic: string, partition: number): void {
    const p = this.#partitions.get(key(topic, partition));
    if (p === undefined) return;
    for (let i = p.head; i < p.tickets.length; i++) {
      const t = p.tickets[i]!;
      if (t.pending > 0 && !t.abandoned) this.#unsettled--;
      t.abandoned = true;
    }
    this.#partitions.delete(key(topic, partition));
  }

  /** The commits due: each partition whose leading tickets settled past its last acknowledged commit. */
  due(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const p of this.#partitions.values()) {
      while (p.head < p.tickets.length && p.tickets[p.head]!.pending <= 0) p.position = p.tickets[p.head++]!.offset + 1;
      if (p.head > 1024 && p.head * 2 > p.tickets.length) {
        p.tickets = p.tickets.slice(p.head);
        p.head = 0;
      }
      if (p.position > p.acked) out.push({ topic: p.topic, partition: p.partition, offset: String(p.position) });
    }
    return out;
  }

  /** Records that these commits went through (a failed one is due again next time). */
  acknowledge(offsets: readonly TopicPartitionOffset[]): void {
    for (const o of offsets) {
      const p = this.#partitions.get(key(o.topic, o.partition));
      if (p !== undefined) p.acked = Math.max(p.acked, Number(o.offset));
    }
  }
}
