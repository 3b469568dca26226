/**
 * CRC-64-AVRO, the Rabin fingerprint the Avro spec defines for single-object
 * encoding ("Schema Fingerprints"). avsc 5.7 only offers crypto hashes (md5, sha256)
 * for `Type#fingerprint`, so Quartile computes this one itself. The result is the
 * 8 bytes little-endian, as they appear after `C3 01` on the wire.
 */

const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
  return fp;
});

/** The CRC-64-AVRO fingerprint of `text` (normally a schema's Parsing Canonical Form). */
export function crc64Avro(text: string): Buffer {
  let fp = EMPTY;
  for (const byte of Buffer.from(text, 'utf8')) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp & MASK);
  return out;
}
