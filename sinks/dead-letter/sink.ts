/**
 * The dead-letter sink: DeadLetter records (reason code, stage, message, attempts,
 * first failure time, original bytes, source topic, partition and offset) on
 * ads.events.dlq. The runtime does not commit a batch until its dead letters are
 * written here, so a dead-lettered event is never lost either.
 */
import type { DeadLetter } from '../../schemas/types.ts';
import { QuartileError, messageOf } from '../../src/core/errors.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import type { Transport } from '../../src/transport/transport.ts';
import type { DeadLetterWriter } from '../../src/pipeline/runtime.ts';

export class DeadLetterSink implements DeadLetterWriter {
  readonly name = 'dead-letter' as const;
  readonly #transport: Transport;
  readonly #codec: RecordCodec;

  constructor(transport: Transport, codec: RecordCodec) {
    this.#transport = transport;
    this.#codec = codec;
  }

  async write(records: readonly DeadLetter[]): Promise<{ ok: true } | { ok: false; error: QuartileError }> {
    try {
      const values = await this.#codec.encodeMany(TOPICS.deadLetter, records);
      await this.#transport.send(
        TOPICS.deadLetter,
        records.map((r, i) => ({ key: r.eventId ?? `${r.source.topic}/${r.source.partition}/${r.source.offset}`, value: values[i]! })),
      );
      return { ok: true };
    } catch (error) {
      return { ok: false, error: new QuartileError('SINK_KAFKA_UNAVAILABLE', `Writing dead letters failed: ${messageOf(error)}`, { retriable: true, stage: 'sinks/dead-letter', cause: error }) };
    }
  }
}
