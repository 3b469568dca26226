/**
 * The frequency-cap state layout, in the state seam. Every key of one viewer shares
 * the hash tag `{<profileKey>}`, so one viewer's counters and ledger sit in one Redis
 * Cluster slot and `incrementOnce` can update them atomically:
 *
 *   cap:{<profileKey>}:<ruleId>:<scopeValue>:b<bucket>     rolling window, bucket = floor(t / bucketMs)
 *   cap:{<profileKey>}:<ruleId>:<scopeValue>:d<yyyymmdd>   UTC calendar day
 *   cap:{<profileKey>}:<ruleId>:<scopeValue>:e<liveEvent>  live event
 *   cap:{<profileKey>}:seen:<eventId>                      ledger: this impression was counted
 *
 * Scope values and live event ids are percent-encoded, so a `:` in an id cannot make
 * two counters collide. Counters live as long as a read can still see them.
 */
import type { CapRule, CapScope } from './cap-rules.ts';

/** The ids of an ad that cap rules count on. */
export interface CapSubject {
  readonly campaignId: string;
  readonly lineItemId: string;
  readonly creativeId: string;
  readonly advertiserId: string;
}

const DAY_MS = 86_400_000;
/** How long a live-event counter is kept after its last impression. */
export const LIVE_EVENT_COUNTER_TTL_MS = 7 * DAY_MS;
/** Day counters outlive their day by this much, for late reads across the boundary. */
const DAY_GRACE_MS = 3_600_000;

/** The id an ad has in a rule's scope; empty when the ad server sent none. */
export function scopeValue(subject: CapSubject, scope: CapScope): string {
  switch (scope) {
    case 'campaign':
      return subject.campaignId;
    case 'lineItem':
      return subject.lineItemId;
    case 'creative':
      return subject.creativeId;
    case 'advertiser':
      return subject.advertiserId;
  }
}

/** Names one counter series: a rule and a scope value, whatever the bucket. */
export function seriesId(rule: CapRule, value: string): string {
  return `${rule.id}|${value}`;
}

function prefix(profileKey: string): string {
  return `cap:{${profileKey}}:`;
}

/** The ledger key that makes counting one impression idempotent. */
export function ledgerKey(profileKey: string, eventId: string): string {
  return `${prefix(profileKey)}seen:${encodeURIComponent(eventId)}`;
}

function utcDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10).replace(/-/g, '');
}

/** One counter to bump for an impression: its key and how long it must live from `now`. */
export interface CounterSlot {
  readonly key: string;
  readonly ttlMs: number;
}

/**
 * The counter an impression at `occurredAt` bumps for `rule`, or null when the rule
 * does not apply (no scope id, no live event) or the impression is too old for any
 * read to see it.
 */
export function counterFor(rule: CapRule, profileKey: string, subject: CapSubject, liveEventId: string | null, occurredAt: number, now: number): CounterSlot | null {
  const value = scopeValue(subject, rule.scope);
  if (value === '') return null;
  const base = `${prefix(profileKey)}${rule.id}:${encodeURIComponent(value)}:`;
  const window = rule.window;
  switch (window.kind) {
    case 'rolling': {
      const bucket = Math.floor(occurredAt / window.bucketMs);
      // Reads sum the buckets overlapping [now - window, now]; this one stops overlapping here.
      const ttlMs = (bucket + 1) * window.bucketMs + window.ms - now;
      return ttlMs > 0 ? { key: `${base}b${bucket}`, ttlMs } : null;
    }
    case 'day': {
      const dayEnd = (Math.floor(occurredAt / DAY_MS) + 1) * DAY_MS;
      const ttlMs = dayEnd + DAY_GRACE_MS - now;
      return ttlMs > 0 ? { key: `${base}d${utcDay(occurredAt)}`, ttlMs } : null;
    }
    case 'live-event':
      return liveEventId === null || liveEventId === '' ? null : { key: `${base}e${encodeURIComponent(liveEventId)}`, ttlMs: LIVE_EVENT_COUNTER_TTL_MS };
  }
}

/** The counters whose sum is a viewer's count for `rule` and `value` at `now`. */
export function readKeys(rule: CapRule, profileKey: string, value: string, liveEventId: string | null, now: number): readonly string[] {
  const base = `${prefix(profileKey)}${rule.id}:${encodeURIComponent(value)}:`;
  const window = rule.window;
  switch (window.kind) {
    case 'rolling': {
      const last = Math.floor(now / window.bucketMs);
      const first = Math.floor((now - window.ms) / window.bucketMs);
      const keys: string[] = [];
      for (let b = first; b <= last; b++) keys.push(`${base}b${b}`);
      return keys;
    }
    case 'day':
      return [`${base}d${utcDay(now)}`];
    case 'live-event':
      return liveEventId === null || liveEventId === '' ? [] : [`${base}e${encodeURIComponent(liveEventId)}`];
  }
}
