/**
 * decode: Avro bytes → AdEvent. Accepts Confluent and single-object framing
 * whatever the configuration. A record that cannot be decoded is dead-lettered with
 * its DECODE_* code and original bytes; a schema registry that cannot be reached is
 * an outage, not a bad record, so it throws and the batch is tried again.
 */
import { QuartileError } from '../../src/core/errors.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import { EMIT, fail, type Processor, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';

const TOMBSTONE = (): StepResult => fail(new QuartileError('DECODE_FRAMING_UNKNOWN', 'The record has no value (a tombstone).', { stage: 'decode' }));

export class DecodeProcessor implements Processor {
  readonly name = 'decode' as const;
  readonly #codec: RecordCodec;

  constructor(codec: RecordCodec) {
    this.#codec = codec;
  }

  /** The whole batch in one codec call: one promise per batch instead of one per event. */
  async processBatch(events: readonly PipelineEvent[]): Promise<StepResult[]> {
    const values: Buffer[] = [];
    for (const event of events) if (event.source.record.value !== null) values.push(event.source.record.value);
    const decoded = await this.#codec.decodeMany(TOPICS.raw, values);
    let next = 0;
    return events.map((event) => {
      if (event.source.record.value === null) return TOMBSTONE();
      const raw = decoded[next++]!;
      if (raw instanceof QuartileError) return fail(raw);
      event.raw = raw;
      return EMIT;
    });
  }

  async process(event: PipelineEvent): Promise<StepResult> {
    return (await this.processBatch([event]))[0]!;
  }
}
