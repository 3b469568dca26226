/**
 * The two wire framings Quartile reads and writes (both are standard Avro practice):
 *
 * - Confluent: magic byte 0, a 4-byte big-endian schema id from the registry, then the
 *   Avro binary payload. Used when a schema registry is configured.
 * - Avro single-object encoding: `C3 01`, the 8-byte CRC-64-AVRO fingerprint of the
 *   writer schema (little-endian), then the payload. Used without a registry; the
 *   fingerprint is resolved against schemas/.
 */

/** Which framing a record uses, and where its payload starts. */
export type Framing =
  | { readonly kind: 'confluent'; readonly schemaId: number; readonly payloadOffset: 5 }
  | { readonly kind: 'single-object'; readonly fingerprint: Buffer; readonly payloadOffset: 10 }
  | { readonly kind: 'unknown'; readonly reason: string };

/** The framing of `buffer`, from its first bytes. */
export function detectFraming(buffer: Buffer): Framing {
  if (buffer.length >= 10 && buffer[0] === 0xc3 && buffer[1] === 0x01) {
    return { kind: 'single-object', fingerprint: buffer.subarray(2, 10), payloadOffset: 10 };
  }
  if (buffer.length >= 5 && buffer[0] === 0x00) {
    return { kind: 'confluent', schemaId: buffer.readUInt32BE(1), payloadOffset: 5 };
  }
  if (buffer.length === 0) return { kind: 'unknown', reason: 'the record is empty' };
  return { kind: 'unknown', reason: `it starts with byte 0x${buffer[0]!.toString(16).padStart(2, '0')}, neither Confluent (0x00) nor single-object (0xC3 0x01) framing` };
}

const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);

/** The header of single-object framing: `C3 01` and the fingerprint. */
export function singleObjectHeader(fingerprint: Buffer): Buffer {
  return Buffer.concat([SINGLE_OBJECT_MARKER, fingerprint], 10);
}

/** The header of Confluent framing: magic byte 0 and the big-endian schema id. */
export function confluentHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return header;
}

/** Frames an Avro payload as a single object. */
export function frameSingleObject(fingerprint: Buffer, payload: Buffer): Buffer {
  return Buffer.concat([SINGLE_OBJECT_MARKER, fingerprint, payload], 10 + payload.length);
}

/** Frames an Avro payload for a Confluent-compatible registry. */
export function frameConfluent(schemaId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = 0;
  out.writeUInt32BE(schemaId, 1);
  payload.copy(out, 5);
  return out;
}
