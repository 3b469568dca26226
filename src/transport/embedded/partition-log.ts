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

const NO_HEADERS: Readonly<Record<string, Buffer>> = Object.freeze({});

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Wakes consumers waiting for records past the end. */
  readonly appended = new Notifier();
  // The retained records, as columns (index = offset - low). A partition holds up to
  // hundreds of thousands of records, and every heap object per record is work for
  // each major GC: a ConsumedRecord, its offset string, its key Buffer and its headers
  // object per record made the collector's major-GC marking steps block the event
  // loop for 50-140 ms (bench/README.md, "Collector"). The record objects are built
  // on read instead; keys stay as given.
  #keys: Array<string | Buffer | null> = [];
  #values: Buffer[] = [];
  #timestamps: number[] = [];
  /** Headers per record; undefined (most records) means none. */
  #headers: Array<Readonly<Record<string, Buffer>> | undefined> = [];
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
    return this.#low + this.#values.length;
  }

  /** Appends one record and returns its offset. */
  append(record: OutgoingRecord): number {
    const offset = this.high;
    let headers: Record<string, Buffer> | undefined;
    if (record.headers !== undefined) {
      headers = {};
      for (const [k, v] of Object.entries(record.headers)) headers[k] = toBuffer(v);
    }
    this.#keys.push(record.key);
    this.#values.push(record.value);
    this.#timestamps.push(record.timestamp ?? Date.now());
    this.#headers.push(headers);
    const size = sizeOf(record);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#enforceRetention();
    return offset;
  }

  /** Up to `max` records starting at `from` (clamped to what is retained). */
  read(from: number, max: number): ConsumedRecord[] {
    const start = Math.max(from, this.#low) - this.#low;
    const end = Math.min(start + max, this.#values.length);
    const out: ConsumedRecord[] = [];
    for (let i = start; i < end; i++) {
      const key = this.#keys[i]!;
      out.push({
        topic: this.topic,
        partition: this.partition,
        offset: String(this.#low + i),
        key: key === null ? null : toBuffer(key),
        value: this.#values[i]!,
        timestamp: this.#timestamps[i]!,
        headers: this.#headers[i] ?? NO_HEADERS,
      });
    }
    return out;
  }

  #enforceRetention(): void {
    if (this.#bytes <= this.#retentionBytes) return;
    // Drop in chunks of at least 1/8 of the log so trimming stays O(1) amortised.
    let drop = 0;
    let freed = 0;
    const target = this.#bytes - this.#retentionBytes * 0.875;
    while (drop < this.#sizes.length - 1 && freed < target) freed += this.#sizes[drop++]!;
    this.#keys = this.#keys.slice(drop);
    this.#values = this.#values.slice(drop);
    this.#timestamps = this.#timestamps.slice(drop);
    this.#headers = this.#headers.slice(drop);
    this.#sizes = this.#sizes.slice(drop);
    this.#bytes -= freed;
    this.#low += drop;
  }
}
