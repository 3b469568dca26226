/**
 * A faster encoder for the records kafkajs puts in a produce request.
 *
 * kafkajs 2.2.4 (its last release) encodes each record through a general-purpose
 * `Encoder`: a zero-filled 512-byte buffer that grows (a second allocation and copy)
 * for any record past 512 bytes — every enriched event is — and an array plus a
 * `Buffer.from` for every varint. In the pipeline's profile on real Kafka that was the
 * biggest single cost of producing, and much of the garbage collector's work.
 *
 * This module sizes a record exactly and writes it into one `Buffer.allocUnsafe` (a
 * slice of Node's pool: the batch copies it at once), producing the same bytes (the record format of KIP-98, the
 * v2 message format). It replaces kafkajs's record module in Node's module cache;
 * kafkajs loads its produce request encoders lazily, on the first produce, and they
 * then bind this module instead. Records it does not handle the common way (headers,
 * a timestamp delta beyond 32 bits) go to kafkajs's own encoder, so nothing changes
 * for them. A unit test checks the bytes against kafkajs's encoder.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkaJsEncoder {
  buf: Buffer;
  offset: number;
}

/** What kafkajs's record module takes (see kafkajs/src/protocol/recordBatch/record/v0). */
export interface RecordFields {
  readonly offsetDelta?: number;
  readonly timestampDelta?: number | object;
  readonly key?: Buffer | string | null;
  readonly value?: Buffer | string | null;
  readonly headers?: Readonly<Record<string, unknown>>;
}

type RecordEncoder = (fields: RecordFields) => KafkaJsEncoder;

const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
const PRODUCE_REQUEST_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';

/** kafkajs's own record encoder, for what the fast path leaves to it and for tests. */
export const kafkaJsRecord = require(RECORD_MODULE) as RecordEncoder;
const encoderPrototype = (require(ENCODER_MODULE) as { prototype: object }).prototype;

const zigZag32 = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function writeUvarint(buf: Buffer, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[offset++] = n;
  return offset;
}

/** Bytes of a field as a varint length + bytes; -1 length for null. */
function bytesSize(field: Buffer | string | null | undefined): number {
  if (field === null || field === undefined) return 1; // zigzag(-1) = 1: one byte
  const length = typeof field === 'string' ? Buffer.byteLength(field) : field.length;
  return uvarintSize(zigZag32(length)) + length;
}

function writeBytes(buf: Buffer, offset: number, field: Buffer | string | null | undefined): number {
  if (field === null || field === undefined) {
    buf[offset] = 1;
    return offset + 1;
  }
  if (typeof field === 'string') {
    const length = Buffer.byteLength(field);
    offset = writeUvarint(buf, offset, zigZag32(length));
    return offset + buf.write(field, offset, length, 'utf8');
  }
  offset = writeUvarint(buf, offset, zigZag32(field.length));
  field.copy(buf, offset);
  return offset + field.length;
}

function hasHeaders(headers: Readonly<Record<string, unknown>> | undefined): boolean {
  if (headers === undefined) return false;
  for (const _ in headers) return true;
  return false;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The same bytes as kafkajs's record encoder, in one exactly sized buffer. */
export function encodeRecord(fields: RecordFields): KafkaJsEncoder {
  const offsetDelta = fields.offsetDelta ?? 0;
  const timestampDelta = fields.timestampDelta ?? 0;
  if (
    hasHeaders(fields.headers) ||
    typeof timestampDelta !== 'number' ||
    !Number.isInteger(timestampDelta) ||
    timestampDelta < INT32_MIN ||
    timestampDelta > INT32_MAX ||
    !Number.isInteger(offsetDelta) ||
    (fields.key !== null && fields.key !== undefined && typeof fields.key !== 'string' && !Buffer.isBuffer(fields.key)) ||
    (fields.value !== null && fields.value !== undefined && typeof fields.value !== 'string' && !Buffer.isBuffer(fields.value))
  ) {
    return kafkaJsRecord(fields);
  }
  // For values within 32 bits the 64-bit zigzag varint (kafkajs's varlong) has the same bytes.
  const timestamp = zigZag32(timestampDelta);
  const offset = zigZag32(offsetDelta);
  const body = 1 + uvarintSize(timestamp) + uvarintSize(offset) + bytesSize(fields.key) + bytesSize(fields.value) + 1;
  const total = uvarintSize(zigZag32(body)) + body;
  const buf = Buffer.allocUnsafe(total);
  let at = writeUvarint(buf, 0, zigZag32(body));
  buf[at++] = 0; // attributes: none are used per record
  at = writeUvarint(buf, at, timestamp);
  at = writeUvarint(buf, at, offset);
  at = writeBytes(buf, at, fields.key);
  at = writeBytes(buf, at, fields.value);
  buf[at++] = 0; // no headers: a zero count
  const encoder = Object.create(encoderPrototype) as KafkaJsEncoder;
  encoder.buf = buf;
  encoder.offset = at;
  return encoder;
}

/**
 * Puts {@link encodeRecord} in kafkajs's place. Returns false (and changes nothing)
 * when kafkajs already loaded its produce encoder, which would keep the old binding.
 */
export function installRecordEncoder(): boolean {
  const recordPath = require.resolve(RECORD_MODULE);
  const cached = require.cache[recordPath];
  if (cached === undefined) return false;
  if (cached.exports === encodeRecord) return true;
  if (require.cache[require.resolve(PRODUCE_REQUEST_MODULE)] !== undefined) return false;
  cached.exports = encodeRecord;
  return true;
}
