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
});
