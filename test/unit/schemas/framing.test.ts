/**
 * Avro framing without a registry: single-object encoding with CRC-64-AVRO, and the
 * decode errors a bad record gets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc64Avro } from '../../../src/transport/avro/crc64-avro.ts';
import { RecordCodec } from '../../../src/transport/avro/record-codec.ts';
import { frameConfluent } from '../../../src/transport/avro/framing.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import { plain, sampleAdEvent } from '../../helpers/events.ts';

describe('CRC-64-AVRO', () => {
  // Vectors cross-checked with fastavro's fingerprint(..., "CRC-64-AVRO"), whose hex is
  // the little-endian byte order used on the wire; "int" is the Avro spec's 0x7275d51a3f395c8f.
  const vectors: Array<[string, string]> = [
    ['"int"', '8f5c393f1ad57572'],
    ['{"type":"record","name":"A","fields":[{"name":"x","type":"long"}]}', '4d20ba38b5bec64f'],
  ];
  for (const [text, hex] of vectors) {
    it(`fingerprints ${text}`, () => assert.equal(crc64Avro(text).toString('hex'), hex));
  }
});

describe('single-object framing', () => {
  const codec = new RecordCodec();

  it('writes C3 01, the schema fingerprint, then the payload, and reads it back', async () => {
    const event = sampleAdEvent();
    const bytes = await codec.encode(TOPICS.raw, event);
    assert.deepEqual([...bytes.subarray(0, 2)], [0xc3, 0x01]);
    assert.deepEqual(bytes.subarray(2, 10), codec.catalog.current('AdEvent').fingerprint);
    assert.deepEqual(plain(await codec.decode(TOPICS.raw, bytes)), event);
  });

  const bad: Array<[string, Buffer, string]> = [
    ['an empty record', Buffer.alloc(0), 'DECODE_FRAMING_UNKNOWN'],
    ['JSON instead of Avro', Buffer.from('{"eventId":"x"}'), 'DECODE_FRAMING_UNKNOWN'],
    ['an unknown fingerprint', Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.alloc(8, 7), Buffer.from([2, 3])]), 'DECODE_SCHEMA_UNKNOWN'],
    ['Confluent framing with no registry configured', frameConfluent(17, Buffer.from([1, 2, 3])), 'DECODE_SCHEMA_UNKNOWN'],
  ];
  for (const [what, bytes, code] of bad) {
    it(`refuses ${what} with ${code}`, async () => {
      await assert.rejects(codec.decode(TOPICS.raw, bytes), (e: unknown) => isQuartileError(e, code as never) && !e.retriable);
    });
  }

  it('refuses a truncated payload with DECODE_PAYLOAD_INVALID', async () => {
    const bytes = await codec.encode(TOPICS.raw, sampleAdEvent());
    await assert.rejects(codec.decode(TOPICS.raw, bytes.subarray(0, 30)), (e: unknown) => isQuartileError(e, 'DECODE_PAYLOAD_INVALID'));
  });

  it('refuses a record of another type on a topic with DECODE_SCHEMA_MISMATCH', async () => {
    const cue = await codec.encode(TOPICS.liveCues, { liveEventId: 'l', breakId: 'b', startsAt: 1, durationMs: 2, podMaxAds: null, issuedAt: 3 });
    await assert.rejects(codec.decode(TOPICS.raw, cue), (e: unknown) => isQuartileError(e, 'DECODE_SCHEMA_MISMATCH'));
  });
});

describe('batch encode and decode', () => {
  const codec = new RecordCodec();

  it('encodes a batch to the same bytes as one record at a time, across buffer boundaries', async () => {
    // Large ids every few records, so the batch spills over several shared buffers.
    const events = Array.from({ length: 400 }, (_, i) => sampleAdEvent({ eventId: i % 9 === 0 ? `big-${i}-${'x'.repeat(3000)}` : `e-${i}` }));
    const many = await codec.encodeMany(TOPICS.raw, events);
    assert.equal(many.length, events.length);
    for (const [i, event] of events.entries()) assert.deepEqual(many[i], await codec.encode(TOPICS.raw, event), `record ${i}`);
  });

  it('decodes a batch in order, refusing only the bad records with their codes', async () => {
    const good = [sampleAdEvent({ eventId: 'a' }), sampleAdEvent({ eventId: 'b' })];
    const [a, b] = await codec.encodeMany(TOPICS.raw, good);
    const results = await codec.decodeMany(TOPICS.raw, [a!, Buffer.from('{"eventId":"x"}'), b!, a!.subarray(0, 30)]);
    assert.deepEqual(
      results.map((r) => (isQuartileError(r) ? r.code : r.eventId)),
      ['a', 'DECODE_FRAMING_UNKNOWN', 'b', 'DECODE_PAYLOAD_INVALID'],
    );
  });
});
