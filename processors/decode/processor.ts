/**
 * decode: Avro bytes → AdEvent. Accepts Confluent and single-object framing
 * whatever the configuration. A record that cannot be decoded is dead-lettered with
 * its DECODE_* code and original bytes; a schema registry that cannot be reached is
 * an outage, not a bad record, so it throws and the batch is tried again.
 */
import { isQuartileError } from '../../src/core/errors.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import { EMIT, fail, type Processor, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import { QuartileError } from '../../src/core/errors.ts';

export class DecodeProcessor implements Processor {
  readonly name = 'decode' as const;
  readonly #codec: RecordCodec;

  constructor(codec: RecordCodec) {
    this.#codec = codec;
  }

  async process(event: PipelineEvent): Promise<StepResult> {
    const value = event.source.record.value;
    if (value === null) return fail(new QuartileError('DECODE_FRAMING_UNKNOWN', 'The record has no value (a tombstone).', { stage: 'decode' }));
    try {
      event.raw = await this.#codec.decode(TOPICS.raw, value);
      return EMIT;
    } catch (error) {
      if (isQuartileError(error) && !error.retriable) return fail(error);
      throw error;
    }
  }
}
