/**
 * One partition of the embedded log: an append-only sequence of records with Kafka-like
 * offsets. Old records are dropped once the partition holds more than its byte budget,
 * and the low offset moves up, as Kafka's size-based retention does.
 *
 * Storage is off the JavaScript heap: keys and values are copied into large chunk
 * Buffers and located by a Float64Array of per-record fields, so a partition holding
 * hundreds of thousands of records is a few dozen objects to the garbage collector.
 * (Kept as objects, every record cost each major GC its marking work on the event
 * loop: 40-140 ms stalls every second or two under collector load, and the embedded
 * collector's p99 with them; see bench/README.md, "Collector".) Reads return views
 * into the chunks, built per read.
 */
import { Notifier } from '../../core/notifier.ts';
import type { ConsumedRecord, OutgoingRecord } from '../transport.ts';

/**
 * Storage chunk sizes: a partition's first chunk is small (an embedded process has
 * dozens of mostly idle partitions), each next one twice the last, up to the maximum.
 * A record larger than that gets a chunk of its own size.
 */
const FIRST_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

// The fields of one record in the meta table (a row of ROW doubles).
const CHUNK = 0; // chunk id (absolute; chunk ids only grow)
const START = 1; // byte position of the key in its chunk; the value follows it
const KEY_LENGTH = 2; // key bytes, or -1 for a null key
const VALUE_LENGTH = 3;
const TIMESTAMP = 4;
const SIZE = 5; // bytes charged to the retention budget
const ROW = 6;

const NO_HEADERS: Readonly<Record<string, Buffer>> = Object.freeze({});

/** What a record is charged against the partition's byte budget (an estimate of its memory). */
function sizeOf(record: OutgoingRecord): number {
  let bytes = 64 + record.value.length;
  if (record.key !== null) bytes += record.key.length;
  if (record.headers !== undefined) {
    for (const [k, v] of Object.entries(record.headers)) bytes += k.length + v.length;
  }
  return bytes;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Wakes consumers waiting for records past the end. */
  readonly appended = new Notifier();
  readonly #retentionBytes: number;
  /** Chunks still holding retained records; `#chunks[i]` has id `#firstChunk + i`. */
  #chunks: Buffer[] = [];
  #firstChunk = 0;
  /** Write position in the last chunk. */
  #writeAt = 0;
  /** ROW doubles per record; rows `#firstRow` (offset `#low`) to `#rows - 1` are retained. */
  #meta = new Float64Array(ROW * 1024);
  #firstRow = 0;
  #rows = 0;
  /** Headers of the (rare) records that have any, by offset. */
  readonly #headers = new Map<number, Readonly<Record<string, Buffer>>>();
  #low = 0;
  #bytes = 0;

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
    return this.#low + this.#rows - this.#firstRow;
  }

  /** Appends one record (copying its key and value) and returns its offset. */
  append(record: OutgoingRecord): number {
    const offset = this.high;
    const key = record.key;
    const keyLength = key === null ? -1 : typeof key === 'string' ? Buffer.byteLength(key) : key.length;
    const length = Math.max(0, keyLength) + record.value.length;
    let chunk = this.#chunks.at(-1);
    if (chunk === undefined || this.#writeAt + length > chunk.length) {
      const next = chunk === undefined ? FIRST_CHUNK_BYTES : Math.min(MAX_CHUNK_BYTES, chunk.length * 2);
      chunk = Buffer.allocUnsafeSlow(Math.max(next, length));
      this.#chunks.push(chunk);
      this.#writeAt = 0;
    }
    const start = this.#writeAt;
    if (typeof key === 'string') chunk.write(key, start, 'utf8');
    else if (key !== null) key.copy(chunk, start);
    record.value.copy(chunk, start + Math.max(0, keyLength));
    this.#writeAt += length;

    if ((this.#rows + 1) * ROW > this.#meta.length) this.#growMeta();
    const row = this.#rows * ROW;
    const size = sizeOf(record);
    this.#meta[row + CHUNK] = this.#firstChunk + this.#chunks.length - 1;
    this.#meta[row + START] = start;
    this.#meta[row + KEY_LENGTH] = keyLength;
    this.#meta[row + VALUE_LENGTH] = record.value.length;
    this.#meta[row + TIMESTAMP] = record.timestamp ?? Date.now();
    this.#meta[row + SIZE] = size;
    this.#rows++;
    if (record.headers !== undefined) {
      const headers: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(record.headers)) headers[k] = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
      this.#headers.set(offset, headers);
    }
    this.#bytes += size;
    this.#enforceRetention();
    return offset;
  }

  /** Up to `max` records starting at `from` (clamped to what is retained). */
  read(from: number, max: number): ConsumedRecord[] {
    const first = this.#firstRow + Math.max(from, this.#low) - this.#low;
    const end = Math.min(first + max, this.#rows);
    const out: ConsumedRecord[] = [];
    for (let r = first; r < end; r++) {
      const row = r * ROW;
      const chunk = this.#chunks[this.#meta[row + CHUNK]! - this.#firstChunk]!;
      const start = this.#meta[row + START]!;
      const keyLength = this.#meta[row + KEY_LENGTH]!;
      const valueStart = start + Math.max(0, keyLength);
      const offset = this.#low + r - this.#firstRow;
      out.push({
        topic: this.topic,
        partition: this.partition,
        offset: String(offset),
        key: keyLength < 0 ? null : chunk.subarray(start, start + keyLength),
        value: chunk.subarray(valueStart, valueStart + this.#meta[row + VALUE_LENGTH]!),
        timestamp: this.#meta[row + TIMESTAMP]!,
        headers: this.#headers.get(offset) ?? NO_HEADERS,
      });
    }
    return out;
  }

  #growMeta(): void {
    // Reclaim the rows retention dropped before growing.
    const live = (this.#rows - this.#firstRow) * ROW;
    const meta = live + ROW <= this.#meta.length / 2 ? this.#meta : new Float64Array(this.#meta.length * 2);
    meta.set(this.#meta.subarray(this.#firstRow * ROW, this.#rows * ROW));
    this.#meta = meta;
    this.#rows -= this.#firstRow;
    this.#firstRow = 0;
  }

  #enforceRetention(): void {
    if (this.#bytes <= this.#retentionBytes) return;
    // Drop in chunks of at least 1/8 of the log so trimming stays O(1) amortised.
    const target = this.#bytes - this.#retentionBytes * 0.875;
    let freed = 0;
    while (this.#firstRow < this.#rows - 1 && freed < target) {
      freed += this.#meta[this.#firstRow * ROW + SIZE]!;
      if (this.#headers.size > 0) this.#headers.delete(this.#low);
      this.#firstRow++;
      this.#low++;
    }
    this.#bytes -= freed;
    // Release the chunks no retained record uses any more.
    const firstNeeded = this.#meta[this.#firstRow * ROW + CHUNK]!;
    if (firstNeeded > this.#firstChunk) {
      this.#chunks = this.#chunks.slice(firstNeeded - this.#firstChunk);
      this.#firstChunk = firstNeeded;
    }
  }
}
