/**
 * One partition of the embedded log: an append-only array of records with Kafka-like
 * offsets. Old records are dropped once the partition holds more than its byte budget,
 * and the low offset moves up, as Kafka's size-based retention does.
 */
import { Notifier } from '../../core/notifier.ts';
import type { ConsumedRecord, OutgoingRecord } from '../transport.ts';

/** Approximate in-memory size of a record, for retention. */
function sizeOf(record: OutgoingRecord): number {
  let bytes = 64 + record.value.length;
  if (record.key !== null) bytes += typeof record.key === 'string' ? record.key.length : record.key.length;
  if (record.headers !== undefined) {
    for (const [k, v] of Object.entries(record.headers)) bytes += k.length + v.length;
  }
  return bytes;
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value) : value;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Wakes consumers waiting for records past the end. */
  readonly appended = new Notifier();
  #records: ConsumedRecord[] = [];
  #sizes: number[] = [];
  #low = 0;
  #bytes = 0;
  readonly #retentionBytes: number;

  constructor(topic: string, partition: number, retentionBytes: number) {
    this.topic = topic;
    this.partition = partition;
    this.#retentionBytes = retentionBytes;
  }

  /** First offset still held. */
  get low(): number {
    return this.#low;
  }

  /** The offset the next record will get. */
  get high(): number {
    return this.#low + this.#records.length;
  }

  /** Appends one record and returns its offset. */
  append(record: OutgoingRecord): number {
    const offset = this.high;
    const headers: Record<string, Buffer> = {};
    if (record.headers !== undefined) for (const [k, v] of Object.entries(record.headers)) headers[k] = toBuffer(v);
    this.#records.push({
      topic: this.topic,
      partition: this.partition,
      offset: String(offset),
      key: record.key === null ? null : toBuffer(record.key),
      value: record.value,
      timestamp: record.timestamp ?? Date.now(),
      headers,
    });
    const size = sizeOf(record);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#enforceRetention();
    return offset;
  }

  /** Up to `max` records starting at `from` (clamped to what is retained). */
  read(from: number, max: number): ConsumedRecord[] {
    const start = Math.max(from, this.#low) - this.#low;
    return this.#records.slice(start, start + max);
  }

  #enforceRetention(): void {
    if (this.#bytes <= this.#retentionBytes) return;
    // Drop in chunks of at least 1/8 of the log so trimming stays O(1) amortised.
    let drop = 0;
    let freed = 0;
    const target = this.#bytes - this.#retentionBytes * 0.875;
    while (drop < this.#sizes.length - 1 && freed < target) freed += this.#sizes[drop++]!;
    this.#records = this.#records.slice(drop);
    this.#sizes = this.#sizes.slice(drop);
    this.#bytes -= freed;
    this.#low += drop;
  }
}
