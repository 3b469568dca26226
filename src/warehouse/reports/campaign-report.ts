/**
 * The campaign report: per campaign (and billing currency), impressions, unique
 * viewers, starts, completes, completion rate and spend, read straight from
 * ClickHouse. `quartile report campaigns` prints it; the simulator and the Control
 * Room call {@link campaignReport} too.
 *
 * Why the base tables and not `campaign_hourly`: the report must be exact, because
 * it is what a campaign is billed and judged on.
 * - Impressions, viewers and spend come from `billable_impressions FINAL`. FINAL
 *   collapses the rows of one event id (a replay at other offsets inserts them again
 *   under another deduplication token), so each impression counts once.
 * - Starts and completes come from `ad_events FINAL`, for the same reason.
 * - `campaign_hourly` is fed by a materialized view at insert time: rows a replay
 *   inserts again are summed again there, and its `uniq` state is an estimate. It is
 *   the cheap table for dashboards, not for the bill.
 * - Unique viewers are `uniqExact` of the keyed profile hash (the device hash when the
 *   profile is unknown); impressions with neither count no viewer.
 */
import { QuartileError, isQuartileError } from '../../core/errors.ts';
import type { Warehouse } from '../warehouse.ts';

/** What to report on; both filters optional. */
export interface CampaignReportFilter {
  /** Only events that occurred at or after this instant (epoch ms). */
  readonly since?: number;
  /** Only events of this live event. */
  readonly liveEventId?: string;
}

/** One campaign in one billing currency. */
export interface CampaignReportRow {
  readonly campaignId: string;
  /** ISO 4217 code of the spend; empty for a campaign with plays but no billed impression. */
  readonly currency: string;
  readonly impressions: number;
  /** Distinct viewers (keyed profile or device hash) among the billed impressions. */
  readonly uniqueViewers: number;
  readonly starts: number;
  readonly completes: number;
  /** completes ÷ starts; null when nothing started. */
  readonly completionRate: number | null;
  /** Exact decimal spend in `currency`, as ClickHouse sums it (Decimal, no float rounding). */
  readonly spend: string;
}

interface RawRow {
  campaign_id: string;
  currency: string;
  impressions: string | number;
  unique_viewers: string | number;
  starts: string | number;
  completes: string | number;
  spend: string;
}

/** The report's SQL for `database`; parameters `since` (DateTime64 ms) and `live` (String, '' = any). */
function reportSql(db: string): string {
  const where = `occurred_at >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') AND ({live:String} = '' OR live_event_id = {live:String})`;
  return `
    SELECT
      if(b.campaign_id != '', b.campaign_id, p.campaign_id) AS campaign_id,
      if(b.campaign_id != '', b.currency, p.currency) AS currency,
      b.impressions AS impressions,
      b.unique_viewers AS unique_viewers,
      p.starts AS starts,
      p.completes AS completes,
      toString(b.spend) AS spend
    FROM (
      SELECT campaign_id, currency, count() AS impressions, uniqExactIf(profile_hash, profile_hash != '') AS unique_viewers, sum(price) AS spend
      FROM ${db}.billable_impressions FINAL
      WHERE ${where}
      GROUP BY campaign_id, currency
    ) AS b
    FULL OUTER JOIN (
      SELECT campaign_id, currency, countIf(event_type = 'start') AS starts, countIf(event_type = 'complete') AS completes
      FROM ${db}.ad_events FINAL
      WHERE event_type IN ('start', 'complete') AND ${where}
      GROUP BY campaign_id, currency
    ) AS p
    ON b.campaign_id = p.campaign_id AND b.currency = p.currency
    ORDER BY campaign_id, currency
    SETTINGS join_use_nulls = 0`;
}

/** The campaign report, one row per campaign and currency, ordered by campaign. */
export async function campaignReport(warehouse: Warehouse, filter: CampaignReportFilter = {}): Promise<CampaignReportRow[]> {
  if (filter.since !== undefined && !Number.isSafeInteger(filter.since)) {
    throw new QuartileError('REPORT_BAD_SINCE', `since must be epoch milliseconds; got ${String(filter.since)}.`);
  }
  let rows: RawRow[];
  try {
    rows = await warehouse.query<RawRow>(reportSql(warehouse.database), { since: filter.since ?? 0, live: filter.liveEventId ?? '' });
  } catch (error) {
    if (isQuartileError(error, 'WAREHOUSE_QUERY_FAILED') && /UNKNOWN_TABLE|Unknown table|does ?n[o']t exist/i.test(error.message)) {
      throw new QuartileError('WAREHOUSE_QUERY_FAILED', `The tables of database ${warehouse.database} are not there yet: run \`quartile migrate\` (the engine also does when it starts).`, { cause: error });
    }
    throw error;
  }
  return rows.map((r) => {
    const starts = Number(r.starts);
    const completes = Number(r.completes);
    return {
      campaignId: r.campaign_id,
      currency: r.currency,
      impressions: Number(r.impressions),
      uniqueViewers: Number(r.unique_viewers),
      starts,
      completes,
      completionRate: starts === 0 ? null : completes / starts,
      spend: r.spend,
    };
  });
}
