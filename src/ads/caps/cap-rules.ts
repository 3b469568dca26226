/**
 * Frequency-cap rules, as written in config (`ads.capRules`), and their parsed form.
 *
 *   { "scope": "campaign", "max": 3, "window": "24h" }        rolling 24 hours
 *   { "scope": "advertiser", "max": 5, "window": "day" }      the current UTC calendar day
 *   { "scope": "creative", "max": 1, "window": "live-event" } once per live event
 *
 * A rolling window is counted in time buckets (`buckets`, default 24, so a 24h window
 * has 1-hour buckets). A read sums every bucket that overlaps the window, including
 * the oldest, partly expired one: a cap may hold an ad back up to one bucket early,
 * but never lets a viewer see more than `max` in any window.
 */
import { QuartileError } from '../../core/errors.ts';

/** What a rule counts per viewer. */
export type CapScope = 'campaign' | 'lineItem' | 'creative' | 'advertiser';

/** The scopes, in the order they are documented. */
export const CAP_SCOPES: readonly CapScope[] = ['campaign', 'lineItem', 'creative', 'advertiser'];

/** A rule as written in config. */
export interface CapRuleConfig {
  readonly scope: CapScope;
  /** Impressions allowed per viewer within the window (≥ 1). */
  readonly max: number;
  /** `<n>s|m|h|d` (rolling), `day` (UTC calendar day) or `live-event`. */
  readonly window: string;
  /** Rolling windows only: how many time buckets the window is counted in. Default 24. */
  readonly buckets?: number;
}

/** A cap window, parsed. */
export type CapWindow =
  | { readonly kind: 'rolling'; readonly ms: number; readonly bucketMs: number }
  | { readonly kind: 'day' }
  | { readonly kind: 'live-event' };

/** A parsed rule. `id` names its counters, so it stays stable when `max` changes. */
export interface CapRule {
  readonly id: string;
  readonly scope: CapScope;
  readonly max: number;
  readonly window: CapWindow;
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+)(s|m|h|d)$/;
const DEFAULT_BUCKETS = 24;
const MIN_BUCKET_MS = 1000;
const MAX_ROLLING_MS = 366 * 86_400_000;

function windowProblem(rule: Partial<CapRuleConfig>, i: number): string | undefined {
  const where = `capRules[${i}]`;
  if (rule.window === 'day' || rule.window === 'live-event') {
    return rule.buckets === undefined ? undefined : `${where}.buckets applies only to rolling windows such as "24h"`;
  }
  const match = typeof rule.window === 'string' ? DURATION.exec(rule.window) : null;
  if (match === null) return `${where}.window must be a duration such as "24h", "30m" or "7d", or "day", or "live-event"`;
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms < 60_000 || ms > MAX_ROLLING_MS) return `${where}.window must be between 1m and 366d`;
  const buckets = rule.buckets ?? DEFAULT_BUCKETS;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1440) return `${where}.buckets must be an integer from 1 to 1440`;
  if (ms % buckets !== 0 || ms / buckets < MIN_BUCKET_MS) return `${where}.buckets must divide the window into whole buckets of at least 1 s`;
  return undefined;
}

/** Validates `ads.capRules`; returns what is wrong, or undefined. Used by the config spec. */
export function checkCapRules(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'a list of {scope, max, window, buckets?}';
  for (const [i, raw] of value.entries()) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return `capRules[${i}] must be an object {scope, max, window}`;
    const rule = raw as Partial<CapRuleConfig>;
    const unknown = Object.keys(rule).find((k) => !['scope', 'max', 'window', 'buckets'].includes(k));
    if (unknown !== undefined) return `capRules[${i}] has an unknown key "${unknown}" (known: scope, max, window, buckets)`;
    if (!CAP_SCOPES.includes(rule.scope as CapScope)) return `capRules[${i}].scope must be one of ${CAP_SCOPES.join(', ')}`;
    if (!Number.isInteger(rule.max) || (rule.max as number) < 1) return `capRules[${i}].max must be an integer ≥ 1`;
    const problem = windowProblem(rule, i);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Parses rules that passed {@link checkCapRules}; throws CONFIG_INVALID_VALUE otherwise. */
export function parseCapRules(rules: readonly CapRuleConfig[]): readonly CapRule[] {
  const problem = checkCapRules(rules);
  if (problem !== undefined) throw new QuartileError('CONFIG_INVALID_VALUE', `Config key "ads.capRules": ${problem}.`);
  return rules.map((rule): CapRule => {
    if (rule.window === 'day') return { id: `${rule.scope}:day`, scope: rule.scope, max: rule.max, window: { kind: 'day' } };
    if (rule.window === 'live-event') return { id: `${rule.scope}:le`, scope: rule.scope, max: rule.max, window: { kind: 'live-event' } };
    const match = DURATION.exec(rule.window)!;
    const ms = Number(match[1]) * UNITS[match[2]!]!;
    const buckets = rule.buckets ?? DEFAULT_BUCKETS;
    // The bucket size is part of the id: counters written with another size cannot be summed.
    return { id: `${rule.scope}:${ms / 1000}s/${buckets}`, scope: rule.scope, max: rule.max, window: { kind: 'rolling', ms, bucketMs: ms / buckets } };
  });
}
