/** What the Kafka sink writes where. */
import { TOPICS } from '../../src/transport/topics.ts';

/** Topics of the Kafka sink. */
export interface KafkaSinkConfig {
  /** Enriched events (Avro EnrichedAdEvent), keyed by playback session. */
  readonly enrichedTopic: typeof TOPICS.enriched;
  /** Closed ad sessions (Avro AdSession), keyed by ad instance. */
  readonly sessionsTopic: typeof TOPICS.sessions;
}

export const KAFKA_SINK_DEFAULTS: KafkaSinkConfig = { enrichedTopic: TOPICS.enriched, sessionsTopic: TOPICS.sessions };
