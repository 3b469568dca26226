/**
 * Picks a partition for a key exactly as Kafka's Java client does (murmur2, positive,
 * modulo partition count), so one playback session lands on the same partition on
 * Kafka and on the embedded log, and across Quartile processes.
 */
import { Partitioners, type PartitionMetadata } from 'kafkajs';

const javaCompatible = Partitioners.DefaultPartitioner();

/** The partition for `key` among `partitions`; keyless records go round-robin. */
export function partitionFor(topic: string, key: string | Buffer | null, partitions: number): number {
  return javaCompatible({ topic, partitionMetadata: metadataFor(partitions), message: { key, value: null } });
}

const metadataCache = new Map<number, PartitionMetadata[]>();

/** Fake "all partitions have a leader" metadata, cached per partition count. */
function metadataFor(partitions: number): PartitionMetadata[] {
  let metadata = metadataCache.get(partitions);
  if (metadata === undefined) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
      offlineReplicas: [],
    }));
    metadataCache.set(partitions, metadata);
  }
  return metadata;
}
