/**
 * Herd decisions: a decision for a cued, ready break is served from the prefetched
 * pod of the viewer's cohort. No VAST is fetched. The viewer's frequency caps are
 * read in one state round trip, and an ad the viewer is capped on is replaced from
 * the cohort's alternates (or dropped). With shareable tokens nothing is minted:
 * each ad carries the prefetched token for its place in the pod.
 */
import type { CapCheck } from '../ads/caps/cap-check.ts';
import { decisionAd, type DecisionAd, type DecisionResponse } from '../ads/decision/decision-response.ts';
import { capViewer, countCapped, type DecisionService } from '../ads/decision/decision-service.ts';
import { assemblePod, type PodLimits } from '../ads/decision/pod.ts';
import type { DecisionRequest } from '../ads/decision/request.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { BreakRecord, CohortPlan, PlannedAd } from './break-plan.ts';
import { DEFAULT_COHORT } from './cohorts.ts';
import { breakLimits } from './prefetch.ts';

/** The pod every uncapped viewer of a cohort gets, built once per plan (shareable tokens only). */
interface DefaultPod {
  readonly ads: readonly DecisionAd[];
  readonly durationMs: number;
}

export class HerdServer {
  readonly #decisions: DecisionService;
  readonly #metrics: Metrics;
  readonly #shareTokens: boolean;
  readonly #defaults = new WeakMap<CohortPlan, DefaultPod>();

  constructor(decisions: DecisionService, metrics: Metrics, shareTokens: boolean) {
    this.#decisions = decisions;
    this.#metrics = metrics;
    this.#shareTokens = shareTokens;
  }

  #defaultPod(plan: CohortPlan): DefaultPod {
    let pod = this.#defaults.get(plan);
    if (pod === undefined) {
      let durationMs = 0;
      const ads = plan.pod.map((ad, i) => {
        durationMs += ad.durationMs;
        return decisionAd(ad, i + 1, ad.tokens[i]!);
      });
      pod = { ads, durationMs };
      this.#defaults.set(plan, pod);
    }
    return pod;
  }

  /** Serves `request` from the ready `record`, for the viewer's `cohort`. */
  async decide(request: DecisionRequest, decisionId: string, record: BreakRecord, cohort: string): Promise<DecisionResponse> {
    const served = record.cohorts[cohort] === undefined ? DEFAULT_COHORT : cohort;
    const plan = record.cohorts[served] ?? { pod: [], alternates: [] };
    const breakLimit = breakLimits(record);
    const limits: PodLimits = {
      maxAds: Math.min(breakLimit.maxAds, request.podMaxAds ?? Number.POSITIVE_INFINITY),
      maxDurationMs: Math.min(breakLimit.maxDurationMs, request.podMaxDurationMs ?? Number.POSITIVE_INFINITY),
    };
    const base = {
      decisionId,
      playbackSessionId: request.playbackSessionId,
      liveEventId: record.liveEventId,
      breakId: record.breakId,
      source: 'prefetched' as const,
      cohort: served,
    };
    const mint = (ad: PlannedAd, sequence: number): Promise<string> | string =>
      this.#shareTokens ? ad.tokens[sequence - 1]! : this.#decisions.mint(ad, ad.mid, sequence, record.breakId, request.playbackSessionId);
    const sameLimits = limits.maxAds === breakLimit.maxAds && limits.maxDurationMs === breakLimit.maxDurationMs;
    // The usual case, read cheaply: most viewers are at no cap for the pod's own ads, and
    // then get the pod as prefetched; the alternates' counters are read only when needed.
    if (sameLimits && showsWhole(plan.pod, await this.#decisions.capsFor(request.device, plan.pod, record.liveEventId))) {
      if (this.#shareTokens) {
        const prefetched = this.#defaultPod(plan);
        return { ...base, durationMs: prefetched.durationMs, ads: prefetched.ads };
      }
      const ads = await Promise.all(plan.pod.map(async (ad, i) => decisionAd(ad, i + 1, await mint(ad, i + 1))));
      return { ...base, durationMs: ads.reduce((sum, ad) => sum + ad.durationMs, 0), ads };
    }
    const caps = await this.#decisions.capsFor(request.device, [...plan.pod, ...plan.alternates], record.liveEventId);
    const pod = assemblePod(plan.pod, plan.alternates, limits, capViewer<PlannedAd>(caps));
    countCapped(pod, caps, this.#metrics);
    const ads = await Promise.all(pod.ads.map(async ({ item, sequence }) => decisionAd(item, sequence, await mint(item, sequence))));
    return { ...base, durationMs: pod.durationMs, ads };
  }
}

/** True when the viewer may see every ad of `pod`, counting each against the caps as it is shown. */
function showsWhole(pod: readonly PlannedAd[], caps: CapCheck): boolean {
  for (const ad of pod) {
    if (caps.cappedBy(ad) !== null) return false;
    caps.reserve(ad);
  }
  return true;
}
