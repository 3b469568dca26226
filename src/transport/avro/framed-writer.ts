/**
 * Encodes many records of one type, each framed (its header, then the Avro payload),
 * back to back into shared chunk buffers, and returns each record as a view into its
 * chunk. avsc's `toBuffer` allocates a zero-filled buffer per record, which framing
 * then copied again into another: two allocations and two copies per record, a
 * measurable share of the pipeline's garbage collection. Here a record costs a view.
 *
 * The views keep their chunk alive: hand them to something that copies them (a
 * transport send), not to a long-lived cache.
 */
import type avro from 'avsc';

/** Smallest chunk; a larger batch gets one sized for it, up to the maximum. */
const MIN_CHUNK_BYTES = 16 * 1024;
const MAX_CHUNK_BYTES = 1024 * 1024;
/** A first guess of one framed record's size, to size the first chunk. */
const GUESS_BYTES_PER_RECORD = 512;

/** `header` + Avro binary of each record, in order. Throws on a record the type cannot encode. */
export function encodeFramed(type: avro.Type, header: Buffer, records: readonly unknown[]): Buffer[] {
  const out: Buffer[] = [];
  let chunk = Buffer.allocUnsafe(Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, records.length * GUESS_BYTES_PER_RECORD)));
  let pos = 0;
  for (const record of records) {
    let end = writeOne(type, header, record, chunk, pos);
    while (end < 0) {
      // It did not fit: `-end` bytes were missing. Start a new chunk that holds it.
      const needed = chunk.length - pos - end;
      chunk = Buffer.allocUnsafe(Math.max(needed, Math.min(MAX_CHUNK_BYTES, chunk.length * 2)));
      pos = 0;
      end = writeOne(type, header, record, chunk, pos);
    }
    out.push(chunk.subarray(pos, end));
    pos = end;
  }
  return out;
}

/** Writes one framed record at `pos`; returns where it ends, or minus the bytes missing. */
function writeOne(type: avro.Type, header: Buffer, record: unknown, chunk: Buffer, pos: number): number {
  if (pos + header.length >= chunk.length) return chunk.length - pos - header.length - 1;
  header.copy(chunk, pos);
  // avsc's encode returns the end position, or (negative) the bytes missing.
  return type.encode(record, chunk, pos + header.length);
}
