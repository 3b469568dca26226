/**
 * Kafka's key partitioner (the Java client's DefaultPartitioner: murmur2 of the key's
 * bytes, made positive, modulo the partition count), in 32-bit integer arithmetic.
 *
 * Why not kafkajs's own: its murmur2 does every multiply on a 64-bit `Long` object
 * and copies string keys into a Buffer first, about 3 µs per key. Both transports
 * partition every record they send, so at collector rates it was 13-16% of the CPU
 * profile (see bench/README.md, "Collector"). This one gives the same answers (tested
 * against kafkajs and Kafka's own UtilsTest vectors) in a few dozen nanoseconds.
 *
 * https://github.com/apache/kafka/blob/3.9/clients/src/main/java/org/apache/kafka/common/utils/Utils.java (murmur2, toPositive)
 */
import { partitionFor as referencePartitionFor } from '../partitioner.ts';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 of `data`, as a signed 32-bit integer, exactly as Kafka's `Utils.murmur2`. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const end = length & ~3;
  let h = SEED ^ length;
  for (let i = 0; i < end; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    h = Math.imul(h, M) ^ Math.imul(k, M);
  }
  // The last 1-3 bytes, as Java's switch with fall-through does them.
  const rest = length & 3;
  if (rest === 3) h ^= data[end + 2]! << 16;
  if (rest >= 2) h ^= data[end + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[end]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

/**
 * murmur2 of a string's UTF-8 bytes. ASCII keys (session ids, UUIDs) are hashed from
 * their char codes, with no Buffer; any other key goes through UTF-8 encoding.
 */
export function murmur2String(key: string): number {
  const length = key.length;
  for (let i = 0; i < length; i++) if (key.charCodeAt(i) > 0x7f) return murmur2(Buffer.from(key, 'utf8'));
  const end = length & ~3;
  let h = SEED ^ length;
  for (let i = 0; i < end; i += 4) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    h = Math.imul(h, M) ^ Math.imul(k, M);
  }
  const rest = length & 3;
  if (rest === 3) h ^= key.charCodeAt(end + 2) << 16;
  if (rest >= 2) h ^= key.charCodeAt(end + 1) << 8;
  if (rest >= 1) h = Math.imul(h ^ key.charCodeAt(end), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

/**
 * The partition for `key` among `partitions`, as Kafka's Java client picks it. Keyless
 * records go round-robin, through the shared partitioner (src/transport/partitioner.ts).
 */
export function partitionFor(topic: string, key: string | Buffer | null, partitions: number): number {
  if (key === null) return referencePartitionFor(topic, null, partitions);
  const hash = typeof key === 'string' ? murmur2String(key) : murmur2(key);
  return (hash & 0x7fffffff) % partitions;
}
