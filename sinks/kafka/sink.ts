/**
 * The Kafka sink: enriched events to ads.events.enriched (keyed by playback session,
 * so consumers keep per-session order) and closed sessions to ads.sessions (keyed by
 * ad instance). A record that cannot be encoded is refused on its own; an event log
 * that cannot be reached asks the runtime to retry (the partition waits).
 */
import type { AdSession, EnrichedAdEvent } from '../../schemas/types.ts';
import { QuartileError, isQuartileError, messageOf } from '../../src/core/errors.ts';
import type { RecordCodec, RecordOf } from '../../src/transport/avro/record-codec.ts';
import type { TOPICS } from '../../src/transport/topics.ts';
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
    // Each topic's records, and where each sits in the batch (to report a refused one).
    const events: EnrichedAdEvent[] = [];
    const eventIndexes: number[] = [];
    const sessions: AdSession[] = [];
    const sessionIndexes: number[] = [];
    for (const [index, output] of batch.entries()) {
      if (output.kind === 'event') {
        events.push(output.event.enriched!);
        eventIndexes.push(index);
      } else {
        sessions.push(output.session);
        sessionIndexes.push(index);
      }
    }
    const failed = new Map<number, QuartileError>();
    let enriched: OutgoingRecord[];
    let closed: OutgoingRecord[];
    try {
      [enriched, closed] = await Promise.all([
        this.#encode(this.#config.enrichedTopic, events, enrichedRecord, failed, eventIndexes),
        this.#encode(this.#config.sessionsTopic, sessions, sessionRecord, failed, sessionIndexes),
      ]);
    } catch (error) {
      // The schema registry being unreachable is an outage, not a bad record.
      return outcomeOfSendError(error);
    }
    try {
      // One send per topic for the whole batch: the transport makes it one produce request per broker.
      await Promise.all([
        enriched.length > 0 ? this.#transport.send(this.#config.enrichedTopic, enriched) : undefined,
        closed.length > 0 ? this.#transport.send(this.#config.sessionsTopic, closed) : undefined,
      ]);
    } catch (error) {
      return outcomeOfSendError(error);
    }
    return failed.size === 0 ? { status: 'delivered' } : { status: 'partial', failed };
  }

  /**
   * Encodes the records of one topic in one call; if one of them cannot be encoded,
   * encodes them one by one so only that one is refused (its batch index goes into
   * `failed`). Throws a retriable error when the schema registry cannot be reached.
   */
  async #encode<T extends typeof TOPICS.enriched | typeof TOPICS.sessions>(
    topic: T,
    records: readonly RecordOf<T>[],
    outgoing: (record: RecordOf<T>, value: Buffer) => OutgoingRecord,
    failed: Map<number, QuartileError>,
    indexes: readonly number[],
  ): Promise<OutgoingRecord[]> {
    if (records.length === 0) return [];
    try {
      const values = await this.#codec.encodeMany(topic, records);
      return records.map((record, i) => outgoing(record, values[i]!));
    } catch (error) {
      if (isQuartileError(error) && error.retriable) throw error;
    }
    const out: OutgoingRecord[] = [];
    for (const [i, record] of records.entries()) {
      try {
        out.push(outgoing(record, await this.#codec.encode(topic, record)));
      } catch (error) {
        if (isQuartileError(error) && error.retriable) throw error;
        failed.set(indexes[i]!, new QuartileError('SINK_KAFKA_RECORD_INVALID', `Cannot encode this record: ${messageOf(error)}`, { stage: 'sinks/kafka', cause: error }));
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** Enriched events are keyed by playback session, so consumers keep per-session order. */
function enrichedRecord(event: EnrichedAdEvent, value: Buffer): OutgoingRecord {
  return { key: event.playbackSessionId, value, timestamp: event.processedAt };
}

/** Closed sessions are keyed by ad instance. */
function sessionRecord(session: AdSession, value: Buffer): OutgoingRecord {
  return { key: session.adInstanceId, value, timestamp: session.closedAt };
}
