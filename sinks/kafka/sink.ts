/**
 * The Kafka sink: enriched events to ads.events.enriched (keyed by playback session,
 * so consumers keep per-session order) and closed sessions to ads.sessions (keyed by
 * ad instance). A record that cannot be encoded is refused on its own; an event log
 * that cannot be reached asks the runtime to retry (the partition waits).
 */
import { QuartileError, messageOf } from '../../src/core/errors.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import type { OutgoingRecord, Transport } from '../../src/transport/transport.ts';
import type { PipelineOutput } from '../../src/pipeline/pipeline-event.ts';
import type { Sink, WriteOutcome } from '../../src/pipeline/sink.ts';
import { KAFKA_SINK_DEFAULTS, type KafkaSinkConfig } from './config.ts';
import { outcomeOfSendError } from './retry-policy.ts';

export class KafkaSink implements Sink {
  readonly name = 'kafka' as const;
  readonly #transport: Transport;
  readonly #codec: RecordCodec;
  readonly #config: KafkaSinkConfig;

  constructor(transport: Transport, codec: RecordCodec, config: KafkaSinkConfig = KAFKA_SINK_DEFAULTS) {
    this.#transport = transport;
    this.#codec = codec;
    this.#config = config;
  }

  accepts(output: PipelineOutput): boolean {
    return output.kind === 'session' || output.event.routes.has('enriched');
  }

  async write(batch: readonly PipelineOutput[]): Promise<WriteOutcome> {
    const enriched: OutgoingRecord[] = [];
    const sessions: OutgoingRecord[] = [];
    const failed = new Map<number, QuartileError>();
    for (const [i, output] of batch.entries()) {
      try {
        if (output.kind === 'event') {
          const e = output.event.enriched!;
          enriched.push({ key: e.playbackSessionId, value: await this.#codec.encode(this.#config.enrichedTopic, e), timestamp: e.processedAt });
        } else {
          sessions.push({ key: output.session.adInstanceId, value: await this.#codec.encode(this.#config.sessionsTopic, output.session), timestamp: output.session.closedAt });
        }
      } catch (error) {
        // The schema registry being unreachable is an outage, not a bad record.
        if ((error as QuartileError).retriable === true) return outcomeOfSendError(error);
        failed.set(i, new QuartileError('SINK_KAFKA_RECORD_INVALID', `Cannot encode this record: ${messageOf(error)}`, { stage: 'sinks/kafka', cause: error }));
      }
    }
    try {
      await Promise.all([
        enriched.length > 0 ? this.#transport.send(this.#config.enrichedTopic, enriched) : undefined,
        sessions.length > 0 ? this.#transport.send(this.#config.sessionsTopic, sessions) : undefined,
      ]);
    } catch (error) {
      return outcomeOfSendError(error);
    }
    return failed.size === 0 ? { status: 'delivered' } : { status: 'partial', failed };
  }

  async close(): Promise<void> {}
}
