/**
 * Prefetching a cued break: for each cohort, the ad sources are fetched once (on the
 * cohort's behalf, with no viewer's identity), a pod is assembled within the break's
 * limits, and every pod ad and alternate is stored in the Ads Metadata Registry. When
 * tokens are not session-bound, each ad gets a token for every place it can take in
 * the pod, so herd decisions mint nothing and fetch no VAST.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { AdBreakCue } from '../../schemas/types.ts';
import type { Candidate } from '../ads/decision/candidates.ts';
import { adViewOf } from '../ads/decision/decision-response.ts';
import type { DecisionService } from '../ads/decision/decision-service.ts';
import { assemblePod, type PodLimits } from '../ads/decision/pod.ts';
import type { Logger } from '../telemetry/logger.ts';
import { messageOf } from '../core/errors.ts';
import type { BreakRecord, CohortPlan, PlannedAd } from './break-plan.ts';
import { cohortValues, type CohortSpec } from './cohorts.ts';

/** What prefetching needs. */
export interface PrefetchDeps {
  readonly decisions: DecisionService;
  readonly cohorts: CohortSpec;
  readonly maxAlternates: number;
  readonly concurrency: number;
  /** True when every viewer can share a token (tokens.binding = none). */
  readonly shareTokens: boolean;
  /** Waits until prefetch work may run (load shedding); resolves to a release function. */
  readonly admit: (deadline: number) => Promise<() => void>;
  readonly logger: Logger;
  readonly onCohort: (result: 'filled' | 'empty' | 'failed') => void;
}

/** The pod limits of a cued break. */
export function breakLimits(record: Pick<BreakRecord, 'podMaxAds' | 'durationMs'>): PodLimits {
  return { maxAds: record.podMaxAds, maxDurationMs: record.durationMs };
}

async function planCohort(deps: PrefetchDeps, record: BreakRecord, cohort: string): Promise<CohortPlan> {
  const { decisions } = deps;
  const limits = breakLimits(record);
  const values = cohortValues(deps.cohorts, cohort);
  const set = await decisions.gather({
    decisionId: randomUUID(),
    contentId: record.liveEventId,
    breakPosition: 'midroll',
    podMaxAds: limits.maxAds,
    podMaxDurationMs: limits.maxDurationMs,
    liveEventId: record.liveEventId,
    breakId: record.breakId,
    cohort,
    country: values.country ?? null,
    deviceClass: values.deviceClass ?? null,
    consentClass: values.consent ?? null,
    device: null,
    consent: null,
  });
  const pod = assemblePod(set.primary, set.buffet, limits);
  const chosen = new Set(pod.ads.map((a) => a.item));
  const alternates = [...set.primary, ...set.buffet]
    .filter((c): c is Candidate => c !== null && !chosen.has(c) && c.durationMs <= limits.maxDurationMs)
    .slice(0, deps.maxAlternates);
  const plan = async (candidate: Candidate): Promise<PlannedAd> => {
    const mid = await decisions.register(candidate);
    // One token per place the ad can take, so that a viewer's pod can be reordered by caps without minting.
    const tokens = deps.shareTokens ? await Promise.all(Array.from({ length: limits.maxAds }, (_, i) => decisions.mint(candidate, mid, i + 1, record.breakId, ''))) : [];
    return { ...adViewOf(candidate), mid, tokens };
  };
  return { pod: await Promise.all(pod.ads.map((a) => plan(a.item))), alternates: await Promise.all(alternates.map(plan)) };
}

/** Prefetches every cohort of a pending break and returns the ready record. */
export async function prefetchBreak(deps: PrefetchDeps, pending: BreakRecord, now: () => number = Date.now): Promise<BreakRecord> {
  const limit = pLimit(deps.concurrency);
  const cohorts: Record<string, CohortPlan> = {};
  await Promise.all(
    deps.cohorts.cohorts.map((cohort) =>
      limit(async () => {
        // Prefetch yields to decisions under load, but not past the start of the break.
        const release = await deps.admit(pending.startsAt);
        try {
          const plan = await planCohort(deps, pending, cohort);
          cohorts[cohort] = plan;
          deps.onCohort(plan.pod.length > 0 ? 'filled' : 'empty');
        } catch (error) {
          deps.logger.error({ err: messageOf(error), breakId: pending.breakId, cohort }, 'prefetch of a cohort failed; its viewers get no ads in this break');
          cohorts[cohort] = { pod: [], alternates: [] };
          deps.onCohort('failed');
        } finally {
          release();
        }
      }),
    ),
  );
  return { ...pending, status: 'ready', preparedAt: now(), cohorts };
}

/** A pending record for a cue. */
export function pendingRecord(cue: AdBreakCue, defaultPodMaxAds: number): BreakRecord {
  return {
    v: 1,
    liveEventId: cue.liveEventId,
    breakId: cue.breakId,
    startsAt: cue.startsAt,
    durationMs: cue.durationMs,
    podMaxAds: cue.podMaxAds ?? defaultPodMaxAds,
    issuedAt: cue.issuedAt,
    status: 'pending',
    preparedAt: null,
    cohorts: {},
  };
}
