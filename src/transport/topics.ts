/**
 * The topics Quartile uses (see ARCHITECTURE.md, "Topics and tables"). `quartile
 * topics create` and `quartile start` create them through the admin client.
 */
import type { TopicSpec } from './transport.ts';

/** Topic names, in one place. */
export const TOPICS = {
  /** Avro AdEvent from the collector; key = playback session id. */
  raw: 'ads.events.raw',
  /** Avro EnrichedAdEvent from the pipeline. */
  enriched: 'ads.events.enriched',
  /** Avro AdSession, one per ad instance, when the session closes. */
  sessions: 'ads.sessions',
  /** Avro DeadLetter: reason code, stage, message, attempts, original bytes. */
  deadLetter: 'ads.events.dlq',
  /** What the collector refused, with the reason. */
  rejected: 'ads.events.rejected',
  /** Avro AdBreakCue from the live origin. */
  liveCues: 'live.cues',
  /** Avro BeaconBatch: the vendor beacons the pipeline recorded, for beacon delivery. */
  beacons: 'ads.beacons',
  /** Avro BeaconBatch: beacons of one vendor domain waiting for their next attempt; key = the domain. */
  beaconRetries: 'ads.beacons.retry',
} as const;

/** A topic name Quartile knows. */
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** Specs of every topic, sized by config. */
export function topicSpecs(options: { partitions: number; replicationFactor: number }): TopicSpec[] {
  const week = String(7 * 24 * 3600 * 1000);
  const month = String(30 * 24 * 3600 * 1000);
  return [
    { name: TOPICS.raw, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': week } },
    { name: TOPICS.enriched, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': week } },
    { name: TOPICS.sessions, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': week } },
    // Dead letters and rejections are kept longer: they are evidence, and replayable.
    { name: TOPICS.deadLetter, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': month } },
    { name: TOPICS.rejected, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': month } },
    { name: TOPICS.liveCues, partitions: 1, replicationFactor: options.replicationFactor, config: { 'retention.ms': week } },
    // Beacon work is retried for pixels.deadlineMs (an hour by default); a week leaves
    // room for a delivery outage to be noticed and fixed before anything expires.
    { name: TOPICS.beacons, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': week } },
    { name: TOPICS.beaconRetries, partitions: options.partitions, replicationFactor: options.replicationFactor, config: { 'retention.ms': week } },
  ];
}
