/**
 * The record encoder that replaces kafkajs's must write the very bytes kafkajs would:
 * the broker checks the batch CRC, but a wrong length or varint would corrupt records
 * for every consumer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { encodeRecord, installRecordEncoder, kafkaJsRecord, type RecordFields } from '../../../src/transport/kafka/record-encoder.ts';
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

describe('Kafka record encoder', () => {
  for (const [name, fields] of CASES) {
    it(`writes the bytes kafkajs writes: ${name}`, () => {
      assert.equal(bytes(encodeRecord(fields)), bytes(kafkaJsRecord(fields)));
    });
  }

  it('is what kafkajs uses once the Kafka transport is loaded', () => {
    assert.equal(installRecordEncoder(), true);
    const require = createRequire(import.meta.url);
    assert.equal(require('kafkajs/src/protocol/recordBatch/record/v0/index.js'), encodeRecord);
  });
});
