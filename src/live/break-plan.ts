/**
 * A live break's plan: for each cohort, the prefetched pod and its alternates, each
 * ad with its registry id and (when tokens are not session-bound) a token for every
 * place it may take in the pod, so that herd decisions mint nothing.
 *
 * State layout: `live:break:<breakId>` holds the JSON record, first `pending` (cued,
 * prefetching) then `ready`; it lives until the break ends plus live.retainAfterBreakMs.
 */
import type { AdView } from '../ads/decision/decision-response.ts';

/** One prefetched ad. */
export interface PlannedAd extends AdView {
  /** Ads Metadata Registry id. */
  readonly mid: string;
  /** tokens[k] is the token for place k + 1 in the pod; empty when tokens are session-bound. */
  readonly tokens: readonly string[];
}

/** The prefetched ads of one cohort. */
export interface CohortPlan {
  /** The pod, in play order. */
  readonly pod: readonly PlannedAd[];
  /** Spare ads that replace pod ads a viewer is capped on. */
  readonly alternates: readonly PlannedAd[];
}

/** The state record of one break. */
export interface BreakRecord {
  readonly v: 1;
  readonly liveEventId: string;
  readonly breakId: string;
  readonly startsAt: number;
  readonly durationMs: number;
  /** The pod's ad limit: the cue's, else ads.defaultPodMaxAds. */
  readonly podMaxAds: number;
  readonly issuedAt: number;
  readonly status: 'pending' | 'ready';
  /** When the plan became ready (ms since the epoch). */
  readonly preparedAt: number | null;
  /** Cohort key → plan; `*` is every viewer not in another cohort. Empty while pending. */
  readonly cohorts: Readonly<Record<string, CohortPlan>>;
}

/** The state key of a break. */
export function breakKey(breakId: string): string {
  return `live:break:${encodeURIComponent(breakId)}`;
}
