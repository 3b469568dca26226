/**
 * Rows for the warehouse tables (see the core-tables migration), from pipeline
 * outputs. Times are written as 'YYYY-MM-DD hh:mm:ss.sss' in UTC, the columns'
 * zone; money as exact decimal strings from integer micros, never via floats.
 */
import type { AdSession, EnrichedAdEvent } from '../../schemas/types.ts';

/** Epoch ms → a DateTime64(3, 'UTC') literal. */
export function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Integer micros → a Decimal(18, 6) literal, exactly. */
export function decimalFromMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(micros));
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

/** A row of `ad_events`. */
export function adEventRow(e: EnrichedAdEvent): Record<string, unknown> {
  return {
    event_id: e.eventId,
    event_type: e.eventType,
    occurred_at: utc(e.occurredAt),
    received_at: utc(e.receivedAt),
    processed_at: utc(e.processedAt),
    playback_session_id: e.playbackSessionId,
    ad_instance_id: e.adInstanceId,
    metadata_id: e.metadataId,
    ad_id: e.adId,
    creative_id: e.creativeId,
    campaign_id: e.campaignId,
    line_item_id: e.lineItemId,
    advertiser_id: e.advertiserId,
    live_event_id: e.live?.liveEventId ?? '',
    break_id: e.live?.breakId ?? '',
    pod_sequence: e.podSequence,
    ad_playhead_ms: e.adPlayheadMs,
    error_code: e.errorCode,
    country: e.country,
    device_class: e.deviceClass,
    os_name: e.osName,
    app_name: e.appName,
    app_version: e.appVersion,
    profile_hash: e.profileHash,
    hash_key_id: e.hashKeyId,
    limit_ad_tracking: e.consent.limitAdTracking ? 1 : 0,
    price: decimalFromMicros(e.priceMicros),
    currency: e.currency,
    skew_ms: e.skewMs,
    source_partition: e.source.partition,
    source_offset: e.source.offset,
  };
}

/** A row of `billable_impressions`. */
export function billableRow(e: EnrichedAdEvent): Record<string, unknown> {
  return {
    event_id: e.eventId,
    occurred_at: utc(e.occurredAt),
    processed_at: utc(e.processedAt),
    campaign_id: e.campaignId,
    line_item_id: e.lineItemId,
    advertiser_id: e.advertiserId,
    creative_id: e.creativeId,
    ad_id: e.adId,
    metadata_id: e.metadataId,
    live_event_id: e.live?.liveEventId ?? '',
    break_id: e.live?.breakId ?? '',
    country: e.country,
    device_class: e.deviceClass,
    profile_hash: e.profileHash,
    pricing_model: e.pricingModel,
    price: decimalFromMicros(e.priceMicros),
    currency: e.currency,
  };
}

/** A row of `ad_sessions`. */
export function sessionRow(s: AdSession): Record<string, unknown> {
  return {
    ad_instance_id: s.adInstanceId,
    version: s.version,
    playback_session_id: s.playbackSessionId,
    metadata_id: s.metadataId,
    campaign_id: s.campaignId,
    creative_id: s.creativeId,
    live_event_id: s.live?.liveEventId ?? '',
    break_id: s.live?.breakId ?? '',
    profile_hash: s.profileHash,
    started: s.started ? 1 : 0,
    quartiles_reached: s.quartilesReached,
    completed: s.completed ? 1 : 0,
    skipped: s.skipped ? 1 : 0,
    clicks: s.clicks,
    errors: s.errors,
    watched_ms: s.watchedMs,
    viewability: s.viewability,
    first_event_at: utc(s.firstEventAt),
    last_event_at: utc(s.lastEventAt),
    close_reason: s.closeReason,
  };
}
