/**
 * Rows for the warehouse tables (see the core-tables migration), from pipeline
 * outputs, as ClickHouse TabSeparated lines (src/warehouse/tsv.ts): encoded once, in
 * the sink, and inserted as text. ClickHouse parses TabSeparated for much less CPU
 * than JSONEachRow (no key per value to match against the columns), and Node builds
 * no row object and no JSON.
 *
 * Each table is one list of (column, value) pairs, so a line's fields can never drift
 * from its column list. Times are written as 'YYYY-MM-DD hh:mm:ss.sss' in UTC, the
 * columns' zone; money as exact decimal strings from integer micros, never via floats;
 * a null in a Nullable column as `\N`.
 */
import type { AdSession, EnrichedAdEvent } from '../../schemas/types.ts';
import { joinFields, tsvField } from '../../src/warehouse/tsv.ts';

/** Formatted seconds ('YYYY-MM-DD hh:mm:ss') by epoch second, in a few slots. */
const SECOND_SLOTS = 8;
const cachedSeconds: number[] = new Array<number>(SECOND_SLOTS).fill(Number.NaN);
const cachedTexts: string[] = new Array<string>(SECOND_SLOTS).fill('');

/**
 * Epoch ms → a DateTime64(3, 'UTC') literal. The events of a batch share a few
 * seconds (when they happened, were received, were processed), so each second is
 * formatted once and only the milliseconds are appended: one slot per second, by the
 * second's low bits, so consecutive seconds never evict each other.
 */
export function utc(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`Not a time: ${ms}`);
  const whole = Math.trunc(ms); // as Date does
  const second = Math.floor(whole / 1000);
  const slot = second & (SECOND_SLOTS - 1);
  let text: string;
  if (cachedSeconds[slot] === second) text = cachedTexts[slot]!;
  else {
    text = new Date(second * 1000).toISOString().slice(0, -5).replace('T', ' ');
    cachedSeconds[slot] = second;
    cachedTexts[slot] = text;
  }
  const millis = whole - second * 1000;
  return `${text}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`;
}

/** Integer micros → a Decimal(18, 6) literal, exactly. */
export function decimalFromMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(micros));
  return `${sign}${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}

/** A table's columns, in the migration's order, and how one source value becomes its line. */
export interface TsvTable<T> {
  readonly columns: readonly string[];
  /** The TabSeparated line of one value, with its line feed. */
  line(value: T): string;
}

type Field<T> = readonly [column: string, text: (value: T) => string];

function table<T>(fields: ReadonlyArray<Field<T>>): TsvTable<T> {
  const columns = fields.map(([column]) => column);
  const texts = fields.map(([, text]) => text);
  return {
    columns,
    line(value: T): string {
      const fields = new Array<string>(texts.length);
      for (let i = 0; i < texts.length; i++) fields[i] = texts[i]!(value);
      return joinFields(fields);
    },
  };
}

/** A value of a Nullable column: `\N` for null, as ClickHouse's TabSeparated reads it. */
const nullable = (value: number | null): string => (value === null ? '\\N' : tsvField(value));
const flag = (value: boolean): string => (value ? '1' : '0');

/** `ad_events`. */
export const AD_EVENTS: TsvTable<EnrichedAdEvent> = table<EnrichedAdEvent>([
  ['event_id', (e) => tsvField(e.eventId)],
  ['event_type', (e) => tsvField(e.eventType)],
  ['occurred_at', (e) => utc(e.occurredAt)],
  ['received_at', (e) => utc(e.receivedAt)],
  ['processed_at', (e) => utc(e.processedAt)],
  ['playback_session_id', (e) => tsvField(e.playbackSessionId)],
  ['ad_instance_id', (e) => tsvField(e.adInstanceId)],
  ['metadata_id', (e) => tsvField(e.metadataId)],
  ['ad_id', (e) => tsvField(e.adId)],
  ['creative_id', (e) => tsvField(e.creativeId)],
  ['campaign_id', (e) => tsvField(e.campaignId)],
  ['line_item_id', (e) => tsvField(e.lineItemId)],
  ['advertiser_id', (e) => tsvField(e.advertiserId)],
  ['live_event_id', (e) => tsvField(e.live?.liveEventId ?? '')],
  ['break_id', (e) => tsvField(e.live?.breakId ?? '')],
  ['pod_sequence', (e) => tsvField(e.podSequence)],
  ['ad_playhead_ms', (e) => nullable(e.adPlayheadMs)],
  ['error_code', (e) => nullable(e.errorCode)],
  ['country', (e) => tsvField(e.country)],
  ['device_class', (e) => tsvField(e.deviceClass)],
  ['os_name', (e) => tsvField(e.osName)],
  ['app_name', (e) => tsvField(e.appName)],
  ['app_version', (e) => tsvField(e.appVersion)],
  ['profile_hash', (e) => tsvField(e.profileHash)],
  ['hash_key_id', (e) => tsvField(e.hashKeyId)],
  ['limit_ad_tracking', (e) => flag(e.consent.limitAdTracking)],
  ['price', (e) => decimalFromMicros(e.priceMicros)],
  ['currency', (e) => tsvField(e.currency)],
  ['skew_ms', (e) => tsvField(e.skewMs)],
  ['source_partition', (e) => tsvField(e.source.partition)],
  ['source_offset', (e) => tsvField(e.source.offset)],
]);

/** `billable_impressions`. */
export const BILLABLE_IMPRESSIONS: TsvTable<EnrichedAdEvent> = table<EnrichedAdEvent>([
  ['event_id', (e) => tsvField(e.eventId)],
  ['occurred_at', (e) => utc(e.occurredAt)],
  ['processed_at', (e) => utc(e.processedAt)],
  ['campaign_id', (e) => tsvField(e.campaignId)],
  ['line_item_id', (e) => tsvField(e.lineItemId)],
  ['advertiser_id', (e) => tsvField(e.advertiserId)],
  ['creative_id', (e) => tsvField(e.creativeId)],
  ['ad_id', (e) => tsvField(e.adId)],
  ['metadata_id', (e) => tsvField(e.metadataId)],
  ['live_event_id', (e) => tsvField(e.live?.liveEventId ?? '')],
  ['break_id', (e) => tsvField(e.live?.breakId ?? '')],
  ['country', (e) => tsvField(e.country)],
  ['device_class', (e) => tsvField(e.deviceClass)],
  ['profile_hash', (e) => tsvField(e.profileHash)],
  ['pricing_model', (e) => tsvField(e.pricingModel)],
  ['price', (e) => decimalFromMicros(e.priceMicros)],
  ['currency', (e) => tsvField(e.currency)],
]);

/** `ad_sessions`. */
export const AD_SESSIONS: TsvTable<AdSession> = table<AdSession>([
  ['ad_instance_id', (s) => tsvField(s.adInstanceId)],
  ['version', (s) => tsvField(s.version)],
  ['playback_session_id', (s) => tsvField(s.playbackSessionId)],
  ['metadata_id', (s) => tsvField(s.metadataId)],
  ['campaign_id', (s) => tsvField(s.campaignId)],
  ['creative_id', (s) => tsvField(s.creativeId)],
  ['live_event_id', (s) => tsvField(s.live?.liveEventId ?? '')],
  ['break_id', (s) => tsvField(s.live?.breakId ?? '')],
  ['profile_hash', (s) => tsvField(s.profileHash)],
  ['started', (s) => flag(s.started)],
  ['quartiles_reached', (s) => tsvField(s.quartilesReached)],
  ['completed', (s) => flag(s.completed)],
  ['skipped', (s) => flag(s.skipped)],
  ['clicks', (s) => tsvField(s.clicks)],
  ['errors', (s) => tsvField(s.errors)],
  ['watched_ms', (s) => tsvField(s.watchedMs)],
  ['viewability', (s) => tsvField(s.viewability)],
  ['first_event_at', (s) => utc(s.firstEventAt)],
  ['last_event_at', (s) => utc(s.lastEventAt)],
  ['close_reason', (s) => tsvField(s.closeReason)],
]);
