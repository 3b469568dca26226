/**
 * The produce encoders that replace kafkajs's must write the very bytes kafkajs would:
 * a wrong checksum makes the broker refuse every batch, and a wrong length or varint
 * would corrupt records for every consumer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { crc32c, encodeRecord, installProduceEncoders, kafkaJsCrc32c, kafkaJsRecord, type RecordFields } from '../../../src/transport/kafka/produce-encoders.ts';
import '../../../src/transport/kafka/kafka-transport.ts';

const bytes = (e: { buf: Buffer; offset: number }): string => e.buf.subarray(0, e.offset).toString('hex');

const CASES: ReadonlyArray<[string, RecordFields]> = [
  ['string key, buffer value', { offsetDelta: 3, timestampDelta: 12, key: 'session-1', value: Buffer.from('payload') }],
  ['first record of a batch', { offsetDelta: 0, timestampDelta: 0, key: 'k', value: Buffer.alloc(0) }],
  ['no key', { offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from([1, 2, 3]) }],
  ['no value (a tombstone)', { offsetDelta: 2, timestampDelta: 0, key: 'gone', value: null }],
  ['multi-byte key', { offsetDelta: 70, timestampDelta: 300, key: 'séance-📺', value: 'text value' }],
  ['a value past one varint byte and past 512 bytes', { offsetDelta: 499, timestampDelta: 20_000, key: Buffer.from('key'), value: Buffer.alloc(900, 7) }],
  ['a value past two varint bytes', { offsetDelta: 10_000, timestampDelta: 1, key: 'k', value: Buffer.alloc(70_000, 1) }],
  ['a negative timestamp delta', { offsetDelta: 4, timestampDelta: -250, key: 'k', value: Buffer.from('v') }],
  ['a large timestamp delta (kafkajs encodes it)', { offsetDelta: 4, timestampDelta: 2 ** 40, key: 'k', value: Buffer.from('v') }],
  ['headers (kafkajs encodes them)', { offsetDelta: 1, timestampDelta: 1, key: 'k', value: Buffer.from('v'), headers: { a: 'b', c: ['d', 'e'] } }],
  ['defaults', { key: 'k', value: Buffer.from('v') }],
];

describe('Kafka produce encoders', () => {
  for (const [name, fields] of CASES) {
    it(`writes the bytes kafkajs writes: ${name}`, () => {
      assert.equal(bytes(encodeRecord(fields)), bytes(kafkaJsRecord(fields)));
    });
  }

  it('computes the CRC-32C kafkajs computes, at every length and alignment', () => {
    const bytes = randomBytes(4_100);
    for (let start = 0; start < 9; start++) {
      for (const length of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1_000, 4_091]) {
        const slice = bytes.subarray(start, start + length);
        assert.equal(crc32c(slice), kafkaJsCrc32c(slice), `start ${start}, length ${length}`);
      }
    }
    // The check value of CRC-32C (RFC 3720, appendix B.4).
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('are what kafkajs uses once the Kafka transport is loaded', () => {
    assert.equal(installProduceEncoders(), true);
    const require = createRequire(import.meta.url);
    assert.equal(require('kafkajs/src/protocol/recordBatch/record/v0/index.js'), encodeRecord);
    assert.equal(require('kafkajs/src/protocol/recordBatch/crc32C/index.js'), crc32c);
  });
});
