/**
 * Confluent framing against the real schema registry (Apicurio's ccompat API):
 * schemas are registered under `<topic>-value`, records carry magic byte 0 and the
 * registry's id, and a codec reads both framings whatever it writes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecordCodec } from '../../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { plain, sampleAdEvent } from '../../helpers/events.ts';
import { service } from '../../helpers/services.ts';

const registry = service('schemaRegistry');

describe('Confluent framing with the schema registry', { skip: registry.skip }, () => {
  const options = { url: registry.url ?? '', username: '', password: '' };

  it('registers every topic schema and frames records with its id', async () => {
    const codec = new RecordCodec({ registry: options });
    await codec.registerAll();
    const event = sampleAdEvent();
    const bytes = await codec.encode(TOPICS.raw, event);
    assert.equal(bytes[0], 0, 'magic byte 0');
    const id = bytes.readUInt32BE(1);
    const subject = await fetch(`${options.url}/subjects/${TOPICS.raw}-value/versions/latest`).then((r) => r.json() as Promise<{ id: number }>);
    assert.equal(subject.id, id, 'the id is the one registered under ads.events.raw-value');
    // A separate codec (another process, in effect) resolves the id through the registry.
    assert.deepEqual(plain(await new RecordCodec({ registry: options }).decode(TOPICS.raw, bytes)), event);
  });

  it('reads single-object records too, so a topic written before the registry still drains', async () => {
    const plain = await new RecordCodec().encode(TOPICS.raw, sampleAdEvent({ eventType: 'complete' }));
    const decoded = await new RecordCodec({ registry: options }).decode(TOPICS.raw, plain);
    assert.equal(decoded.eventType, 'complete');
  });

  it('names an id the registry does not have as DECODE_SCHEMA_UNKNOWN', async () => {
    const bytes = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 4]);
    await assert.rejects(new RecordCodec({ registry: options }).decode(TOPICS.raw, bytes), (e: unknown) => isQuartileError(e, 'DECODE_SCHEMA_UNKNOWN'));
  });

  it('answers SCHEMA_REGISTRY_UNAVAILABLE (retriable) when the registry is down', async () => {
    const codec = new RecordCodec({ registry: { url: 'http://127.0.0.1:9', username: '', password: '' } });
    await assert.rejects(codec.encode(TOPICS.raw, sampleAdEvent()), (e: unknown) => isQuartileError(e, 'SCHEMA_REGISTRY_UNAVAILABLE') && e.retriable);
  });
});
