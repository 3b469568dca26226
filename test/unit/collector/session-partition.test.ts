/**
 * The collector keys ads.events.raw by playback session, so a session's events stay
 * in order in one partition, on Kafka and on the embedded log alike, and where a Java
 * producer would put them. The transports partition with a fast murmur2
 * (src/transport/kafka/murmur2.ts); it must agree with Kafka's own vectors and with
 * kafkajs's implementation (the reference, src/transport/partitioner.ts) for every key.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { murmur2, murmur2String, partitionFor } from '../../../src/transport/kafka/murmur2.ts';
import { partitionFor as referencePartitionFor } from '../../../src/transport/partitioner.ts';

// Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
const JAVA_VECTORS: ReadonlyArray<readonly [string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

/** Keys of every shape a producer may send: ASCII of every length mod 4, UTF-8, raw bytes. */
function keys(): Array<string | Buffer> {
  const out: Array<string | Buffer> = ['', 'a', 'pbs-1'];
  for (let i = 0; i < 2000; i++) {
    out.push(`pbs-${randomUUID()}`.slice(0, 1 + (i % 41)));
    out.push(`séance-${i}-📺-${'x'.repeat(i % 5)}`);
    out.push(String.fromCharCode(...Array.from({ length: i % 23 }, () => Math.floor(Math.random() * 0xd7ff))));
    out.push(randomBytes(i % 37));
  }
  return out;
}

describe('a playback session’s partition', () => {
  for (const [key, expected] of JAVA_VECTORS) {
    it(`hashes "${key}" as Kafka’s Java client does`, () => {
      assert.equal(murmur2String(key), expected);
      assert.equal(murmur2(Buffer.from(key)), expected);
    });
  }

  it('is the partition kafkajs’s partitioner picks, for every key shape and partition count', () => {
    let checked = 0;
    for (const key of keys()) {
      for (const partitions of [1, 3, 6, 7, 64]) {
        assert.equal(partitionFor('ads.events.raw', key, partitions), referencePartitionFor('ads.events.raw', key, partitions), `key ${JSON.stringify(key)} over ${partitions}`);
        checked++;
      }
    }
    assert.ok(checked > 40_000);
  });

  it('sends keyless records round-robin over every partition', () => {
    const seen = new Set(Array.from({ length: 60 }, () => partitionFor('t', null, 6)));
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
  });
});
