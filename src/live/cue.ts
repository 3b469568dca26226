/**
 * Ad break cues from the live origin: `{liveEventId, breakId, startsAt, durationMs,
 * podMaxAds?, issuedAt?}`, by POST /v1/live/cues (JSON) or on the live.cues topic
 * (Avro AdBreakCue). Both become the same AdBreakCue record.
 */
import type { AdBreakCue } from '../../schemas/types.ts';
import { badField, type RequestError } from '../ads/request-error.ts';

const FIELDS = new Set(['liveEventId', 'breakId', 'startsAt', 'durationMs', 'podMaxAds', 'issuedAt']);
const ID = /^[\x21-\x7e]{1,128}$/;
const MAX_BREAK_MS = 3_600_000;

function bad(field: string, problem: string): RequestError {
  return badField('LIVE_BAD_CUE', field, problem);
}

/** A time as ms since the epoch, or an ISO 8601 string. */
function time(body: Record<string, unknown>, field: string, fallback: number | null): number {
  const value = body[field];
  if ((value === undefined || value === null) && fallback !== null) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value))) return Date.parse(value);
  throw bad(field, value === undefined || value === null ? 'is required (ms since the epoch, or ISO 8601).' : 'must be ms since the epoch or an ISO 8601 time.');
}

/** Validates a POST /v1/live/cues body; throws LIVE_BAD_CUE naming the field. */
export function parseCue(body: unknown, now: number): AdBreakCue {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw bad('body', 'must be a JSON object {liveEventId, breakId, startsAt, durationMs}.');
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!FIELDS.has(key)) throw bad(key, `is not a cue field (known: ${[...FIELDS].join(', ')}).`);
  for (const field of ['liveEventId', 'breakId']) {
    const value = record[field];
    if (value === undefined || value === null) throw bad(field, 'is required.');
    if (typeof value !== 'string' || !ID.test(value)) throw bad(field, 'must be a string of 1–128 printable ASCII characters without spaces.');
  }
  const duration = record['durationMs'];
  if (duration === undefined || duration === null) throw bad('durationMs', 'is required.');
  if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1000 || duration > MAX_BREAK_MS) throw bad('durationMs', `must be an integer from 1000 to ${MAX_BREAK_MS}.`);
  const podMaxAds = record['podMaxAds'];
  if (podMaxAds !== undefined && podMaxAds !== null && (typeof podMaxAds !== 'number' || !Number.isInteger(podMaxAds) || podMaxAds < 1 || podMaxAds > 32)) {
    throw bad('podMaxAds', 'must be an integer from 1 to 32, or null.');
  }
  return {
    liveEventId: record['liveEventId'] as string,
    breakId: record['breakId'] as string,
    startsAt: time(record, 'startsAt', null),
    durationMs: duration,
    podMaxAds: (podMaxAds as number | null | undefined) ?? null,
    issuedAt: time(record, 'issuedAt', now),
  };
}

/** True when the cued break is already over: nothing is worth prefetching. */
export function cueExpired(cue: AdBreakCue, now: number): boolean {
  return cue.startsAt + cue.durationMs <= now;
}
