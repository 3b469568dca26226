/**
 * What the engine produced for one simulated live event, read from its warehouse and
 * topics: billed impressions, ad sessions, beacons the engine gave up on, dead
 * letters and rejected events. The pipeline role serves it to the simulator at
 * GET /v1/admin/live-events/:id/observation, so a simulator needs no warehouse access.
 */
import type { Transport } from '../transport/transport.ts';
import type { RecordCodec } from '../transport/avro/record-codec.ts';
import { readToEnd } from '../transport/read-to-end.ts';
import { TOPICS } from '../transport/topics.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { campaignReport, type CampaignReportRow } from '../warehouse/reports/campaign-report.ts';

export interface Observation {
  /** What was read (see {@link ObservationLevel}). */
  readonly level: ObservationLevel;
  /** Rows in billable_impressions FINAL for the live event (unmerged rows at level `progress`). */
  readonly billableCount: number;
  /** Their event ids (only in the detailed observation). */
  readonly billable: readonly string[];
  /** Rows before ReplacingMergeTree merges them (retried or replayed inserts show here). */
  readonly billableRowsUnmerged: number;
  /** When the newest billable row was written (epoch ms), 0 when none. */
  readonly lastBilledAt: number;
  /** Ad sessions (FINAL; unmerged rows at level `progress`). */
  readonly sessions: { readonly total: number; readonly completed: number; readonly skipped: number };
  /** Beacons the engine gave up on (outcome failed), since the simulation started (none read at level `progress`). */
  readonly beaconProblems: ReadonlyArray<{ readonly eventId: string; readonly vendor: string; readonly outcome: string; readonly reason: string }>;
  /** Dead letters and rejected events since the simulation started (only in the detailed observation). */
  readonly deadLetters: ReadonlyArray<{ readonly eventId: string; readonly code: string }>;
  readonly rejected: ReadonlyArray<{ readonly eventId: string; readonly code: string }>;
  /** The campaign report of the live event (only in the detailed observation). */
  readonly campaigns: readonly CampaignReportRow[];
}

/**
 * How much to read:
 * - `progress`: counts of rows as written, before ReplacingMergeTree merges them (no
 *   FINAL anywhere, no beacon problems). Each is at least the exact count, so a poll
 *   that finds them short of the ground truth needs nothing more; at a 100,000-viewer
 *   break a FINAL over beacon_deliveries every second was most of the warehouse's work.
 * - `counts`: exact counts (FINAL) and the beacons the engine gave up on.
 * - `detailed`: also the billed event ids, the dead-letter and rejected topics and the
 *   campaign report: what is slow to read, for the final reconciliation.
 */
export type ObservationLevel = 'progress' | 'counts' | 'detailed';

export const OBSERVATION_LEVELS: readonly ObservationLevel[] = ['progress', 'counts', 'detailed'];

const LIVE_EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether `id` is a live event id the observation query accepts. */
export function isObservableLiveEventId(id: string): boolean {
  return LIVE_EVENT_ID.test(id);
}

/** Reads the observation, as much of it as `level` asks for. */
export async function observeLiveEvent(
  backends: { readonly warehouse: Warehouse; readonly transport: Transport },
  codec: RecordCodec,
  liveEventId: string,
  sinceMs: number,
  level: ObservationLevel,
): Promise<Observation> {
  if (!isObservableLiveEventId(liveEventId)) throw new Error(`"${liveEventId}" is not a live event id`);
  const { warehouse } = backends;
  const db = warehouse.database;
  const since = `fromUnixTimestamp64Milli(${Math.floor(sinceMs)})`;
  const detailed = level === 'detailed';
  const final = level === 'progress' ? '' : 'FINAL';
  const [billable, unmerged, sessions, problems] = await Promise.all([
    detailed
      ? warehouse.query<{ id: string }>(`SELECT toString(event_id) AS id FROM ${db}.billable_impressions FINAL WHERE live_event_id = '${liveEventId}'`)
      : level === 'counts'
        ? warehouse.query<{ n: string }>(`SELECT count() AS n FROM ${db}.billable_impressions FINAL WHERE live_event_id = '${liveEventId}'`)
        : Promise.resolve(undefined),
    warehouse.query<{ n: string; last: string }>(
      `SELECT count() AS n, toString(toUnixTimestamp64Milli(max(processed_at))) AS last FROM ${db}.billable_impressions WHERE live_event_id = '${liveEventId}'`,
    ),
    warehouse.query<{ total: string; completed: string; skipped: string }>(
      `SELECT count() AS total, sum(completed) AS completed, sum(skipped) AS skipped FROM ${db}.ad_sessions ${final} WHERE live_event_id = '${liveEventId}'`,
    ),
    level === 'progress'
      ? Promise.resolve([])
      : warehouse.query<{ eventId: string; vendor: string; outcome: string; reason: string }>(
          `SELECT toString(event_id) AS eventId, toString(vendor) AS vendor, toString(outcome) AS outcome, toString(reason) AS reason FROM ${db}.beacon_deliveries FINAL WHERE completed_at >= ${since} AND outcome = 'failed'`,
        ),
  ]);
  const deadLetters: Array<{ eventId: string; code: string }> = [];
  const rejected: Array<{ eventId: string; code: string }> = [];
  const campaigns = detailed ? await campaignReport(warehouse, { liveEventId }) : [];
  if (detailed) {
    await readToEnd(backends.transport, TOPICS.deadLetter, async (record) => {
      if (record.value === null) return;
      const letter = await codec.decode(TOPICS.deadLetter, record.value);
      if (letter.deadLetteredAt >= sinceMs && letter.eventId !== null) deadLetters.push({ eventId: letter.eventId, code: letter.code });
    });
    await readToEnd(backends.transport, TOPICS.rejected, async (record) => {
      if (record.value === null) return;
      const refused = await codec.decode(TOPICS.rejected, record.value);
      if (refused.rejectedAt < sinceMs) return;
      const eventId = eventIdOfRaw(refused.raw);
      if (eventId !== undefined) rejected.push({ eventId, code: refused.code });
    });
  }
  const head = unmerged[0];
  const s = sessions[0];
  const ids = detailed ? (billable as Array<{ id: string }>).map((r) => r.id) : [];
  const billableCount = detailed ? ids.length : level === 'counts' ? Number((billable as Array<{ n: string }>)[0]?.n ?? 0) : Number(head?.n ?? 0);
  return {
    level,
    billableCount,
    billable: ids,
    billableRowsUnmerged: Number(head?.n ?? 0),
    lastBilledAt: Number(head?.last ?? 0),
    sessions: { total: Number(s?.total ?? 0), completed: Number(s?.completed ?? 0), skipped: Number(s?.skipped ?? 0) },
    beaconProblems: problems,
    deadLetters,
    rejected,
    campaigns,
  };
}

function eventIdOfRaw(raw: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(raw.toString('utf8')) as { eventId?: unknown };
    return typeof parsed.eventId === 'string' ? parsed.eventId : undefined;
  } catch {
    return undefined;
  }
}
