import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeProcessor } from '../../../processors/decode/processor.ts';
import { pipelineEvent, testCodec } from '../../helpers/pipeline-events.ts';

describe('decode', () => {
  const decode = new DecodeProcessor(testCodec);
  const cases: Array<[string, () => Promise<Buffer>, string | 'emit']> = [
    ['a single-object AdEvent', async () => testCodec.encode('ads.events.raw', (await pipelineEvent()).raw!), 'emit'],
    ['JSON bytes', async () => Buffer.from('{"eventId":1}'), 'DECODE_FRAMING_UNKNOWN'],
    ['an unknown schema fingerprint', async () => Buffer.from([0xc3, 0x01, 9, 9, 9, 9, 9, 9, 9, 9, 0]), 'DECODE_SCHEMA_UNKNOWN'],
    ['a Confluent id with no registry', async () => Buffer.from([0, 0, 0, 0, 7, 2]), 'DECODE_SCHEMA_UNKNOWN'],
    ['a truncated payload', async () => (await testCodec.encode('ads.events.raw', (await pipelineEvent()).raw!)).subarray(0, 20), 'DECODE_PAYLOAD_INVALID'],
  ];
  for (const [what, bytes, expected] of cases) {
    it(`${expected === 'emit' ? 'decodes' : 'dead-letters'} ${what}`, async () => {
      const event = await pipelineEvent({}, 0, await bytes());
      event.raw = undefined;
      const result = await decode.process(event);
      if (expected === 'emit') {
        assert.equal(result.kind, 'emit');
        assert.equal(event.raw!.eventType, 'impression');
      } else {
        assert.equal(result.kind, 'fail');
        assert.equal(result.kind === 'fail' && result.error.code, expected);
        assert.equal(result.kind === 'fail' && result.error.stage, 'decode');
      }
    });
  }

  it('decodes a batch in one call, dead-lettering only its bad records and its tombstones', async () => {
    const good = await pipelineEvent({ eventType: 'start' }, 0);
    const bad = await pipelineEvent({}, 1, Buffer.from('not avro'));
    const tombstone = await pipelineEvent({}, 2);
    const last = await pipelineEvent({ eventType: 'complete' }, 3);
    for (const e of [good, bad, tombstone, last]) e.raw = undefined;
    (tombstone.source.record as { value: Buffer | null }).value = null;
    const results = await decode.processBatch([good, bad, tombstone, last]);
    assert.deepEqual(
      results.map((r) => (r.kind === 'fail' ? r.error.code : r.kind)),
      ['emit', 'DECODE_FRAMING_UNKNOWN', 'DECODE_FRAMING_UNKNOWN', 'emit'],
    );
    assert.deepEqual([good.raw?.eventType, last.raw?.eventType], ['start', 'complete']);
  });
});
