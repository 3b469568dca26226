/**
 * The core tables of ARCHITECTURE.md ("Topics and tables"). Types are chosen for
 * analysts: LowCardinality for enum-like strings, DateTime64(3, 'UTC') times, Decimal
 * money. Tables that billing reads keep a deduplication window so a retried insert
 * with the same `insert_deduplication_token` is never counted twice.
 */
import type { Migration } from './migration.ts';

/** Inserts remembered for deduplication per table (a retried batch is a recent one). */
const DEDUP_WINDOW = 'non_replicated_deduplication_window = 10000';

export const coreTables: Migration = {
  version: 1,
  name: 'core tables',
  statements: (db) => [
    `CREATE TABLE IF NOT EXISTS ${db}.ad_events (
      event_id UUID COMMENT 'Device-made UUID of the event',
      event_type LowCardinality(String),
      occurred_at DateTime64(3, 'UTC') COMMENT 'Device clock',
      received_at DateTime64(3, 'UTC') COMMENT 'Collector clock',
      processed_at DateTime64(3, 'UTC') DEFAULT now64(3),
      playback_session_id String,
      ad_instance_id String,
      metadata_id String,
      ad_id String,
      creative_id String,
      campaign_id LowCardinality(String),
      line_item_id LowCardinality(String),
      advertiser_id LowCardinality(String),
      live_event_id LowCardinality(String),
      break_id String,
      pod_sequence UInt16,
      ad_playhead_ms Nullable(UInt32),
      error_code Nullable(UInt16),
      country LowCardinality(String),
      device_class LowCardinality(String),
      os_name LowCardinality(String),
      app_name LowCardinality(String),
      app_version LowCardinality(String),
      profile_hash String COMMENT 'Keyed HMAC of the profile (or device) id; never the raw id',
      hash_key_id LowCardinality(String),
      limit_ad_tracking UInt8,
      price Decimal(18, 6),
      currency LowCardinality(String),
      skew_ms Int64 COMMENT 'receivedAt minus occurredAt',
      source_partition UInt32,
      source_offset UInt64
    ) ENGINE = ReplacingMergeTree(processed_at)
    PARTITION BY toDate(occurred_at)
    ORDER BY (campaign_id, event_type, event_id)
    TTL toDateTime(occurred_at) + INTERVAL 400 DAY
    SETTINGS ${DEDUP_WINDOW}`,

    `CREATE TABLE IF NOT EXISTS ${db}.billable_impressions (
      event_id UUID,
      occurred_at DateTime64(3, 'UTC'),
      processed_at DateTime64(3, 'UTC') DEFAULT now64(3),
      campaign_id LowCardinality(String),
      line_item_id LowCardinality(String),
      advertiser_id LowCardinality(String),
      creative_id String,
      ad_id String,
      metadata_id String,
      live_event_id LowCardinality(String),
      break_id String,
      country LowCardinality(String),
      device_class LowCardinality(String),
      profile_hash String,
      pricing_model LowCardinality(String),
      price Decimal(18, 6),
      currency LowCardinality(String)
    ) ENGINE = ReplacingMergeTree(processed_at)
    PARTITION BY toYYYYMM(occurred_at)
    ORDER BY (campaign_id, event_id)
    SETTINGS ${DEDUP_WINDOW}`,

    `CREATE TABLE IF NOT EXISTS ${db}.campaign_hourly (
      hour DateTime('UTC'),
      campaign_id LowCardinality(String),
      advertiser_id LowCardinality(String),
      live_event_id LowCardinality(String),
      currency LowCardinality(String),
      impressions SimpleAggregateFunction(sum, UInt64),
      uniques AggregateFunction(uniq, String),
      starts SimpleAggregateFunction(sum, UInt64),
      completes SimpleAggregateFunction(sum, UInt64),
      spend SimpleAggregateFunction(sum, Decimal(38, 6))
    ) ENGINE = AggregatingMergeTree
    PARTITION BY toYYYYMM(hour)
    ORDER BY (campaign_id, hour, advertiser_id, live_event_id, currency)
    SETTINGS ${DEDUP_WINDOW}`,

    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.campaign_hourly_mv TO ${db}.campaign_hourly AS
    SELECT
      toStartOfHour(occurred_at) AS hour,
      campaign_id,
      advertiser_id,
      live_event_id,
      currency,
      toUInt64(countIf(event_type = 'impression')) AS impressions,
      uniqStateIf(profile_hash, event_type = 'impression') AS uniques,
      toUInt64(countIf(event_type = 'start')) AS starts,
      toUInt64(countIf(event_type = 'complete')) AS completes,
      toDecimal128(sumIf(price, event_type = 'impression'), 6) AS spend
    FROM ${db}.ad_events
    GROUP BY hour, campaign_id, advertiser_id, live_event_id, currency`,

    `CREATE TABLE IF NOT EXISTS ${db}.ad_sessions (
      ad_instance_id String,
      version UInt32 COMMENT 'Higher for a session corrected by late events',
      playback_session_id String,
      metadata_id String,
      campaign_id LowCardinality(String),
      creative_id String,
      live_event_id LowCardinality(String),
      break_id String,
      profile_hash String,
      started UInt8,
      quartiles_reached UInt8 COMMENT '0..4: first, mid, third quartile, complete',
      completed UInt8,
      skipped UInt8,
      clicks UInt16,
      errors UInt16,
      watched_ms UInt32,
      viewability LowCardinality(String),
      first_event_at DateTime64(3, 'UTC'),
      last_event_at DateTime64(3, 'UTC'),
      close_reason LowCardinality(String)
    ) ENGINE = ReplacingMergeTree(version)
    PARTITION BY toYYYYMM(first_event_at)
    ORDER BY ad_instance_id
    TTL toDateTime(first_event_at) + INTERVAL 400 DAY
    SETTINGS ${DEDUP_WINDOW}`,

    `CREATE TABLE IF NOT EXISTS ${db}.beacon_deliveries (
      event_id UUID,
      vendor LowCardinality(String),
      event_type LowCardinality(String),
      uri_hash String,
      outcome LowCardinality(String) COMMENT 'delivered, failed, suppressed',
      reason LowCardinality(String),
      http_status UInt16,
      attempts UInt16,
      latency_ms UInt32,
      completed_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(completed_at)
    PARTITION BY toDate(completed_at)
    ORDER BY (vendor, event_type, event_id, uri_hash)
    TTL toDateTime(completed_at) + INTERVAL 90 DAY
    SETTINGS ${DEDUP_WINDOW}`,
  ],
};
