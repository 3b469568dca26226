/**
 * Deciding which ads a viewer gets: the ad sources are fetched through the VAST
 * engine, a pod is assembled within the request's limits and the viewer's frequency
 * caps, each chosen ad is stored in the Ads Metadata Registry (one entry per ad, by
 * content hash) and gets an opaque token. Resolution errors are reported to the
 * wrappers' and ads' Error URIs in the background.
 *
 * Live breaks use the same pieces at prefetch time (src/live/prefetch.ts).
 */
import type { StateStore } from '../../state/state-store.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { serverSideHeaders, type BeaconDevice } from '../../beacons/dispatcher.ts';
import { CapCheck } from '../caps/cap-check.ts';
import type { CapSubject } from '../caps/cap-keys.ts';
import type { CapRule } from '../caps/cap-rules.ts';
import { profileKeyOf } from '../caps/profile-key.ts';
import type { MetadataRegistry } from '../registry/metadata-registry.ts';
import { metadataFromAd } from '../registry/metadata-from-vast.ts';
import type { TokenService } from '../tokens/token-service.ts';
import type { AdSourceConfig } from './ad-sources.ts';
import { collectCandidates, type Candidate, type CandidateSet } from './candidates.ts';
import { decisionMacros, type MacroContext } from './decision-macros.ts';
import { adViewOf, decisionAd, type DecisionAd, type DecisionResponse } from './decision-response.ts';
import type { ErrorReporter } from './error-reporter.ts';
import { assemblePod, type Pod, type PodLimits, type PodViewer } from './pod.ts';
import type { DecisionDevice, DecisionRequest } from './request.ts';
import { resolveSources, type SourceFetchOptions } from './resolve-sources.ts';

/** Settings of the decision path (from `ads.*`). */
export interface DecisionSettings extends SourceFetchOptions {
  readonly sources: readonly AdSourceConfig[];
  readonly mediaTypes: readonly string[];
  readonly defaultPodMaxAds: number;
  readonly defaultPodMaxDurationMs: number;
  readonly serverUserAgent: string;
}

/** What the decision path uses. */
export interface DecisionDeps {
  readonly settings: DecisionSettings;
  readonly state: StateStore;
  readonly registry: MetadataRegistry;
  readonly tokens: TokenService;
  readonly errors: ErrorReporter;
  readonly metrics: Metrics;
  readonly capRules: readonly CapRule[];
  readonly capKey: Buffer;
}

/** The device fields server-side requests and beacons carry. */
export function beaconDevice(device: DecisionDevice): BeaconDevice {
  return { ip: device.ip, userAgent: device.userAgent, referer: device.referer, acceptLanguage: device.acceptLanguage };
}

/** Adapts a viewer's caps to pod assembly. */
export function capViewer<T extends CapSubject>(caps: CapCheck): PodViewer<T> {
  return { isCapped: (item) => caps.cappedBy(item) !== null, reserve: (item) => caps.reserve(item) };
}

/** Counts the ads a cap kept out of `pod`, by the scope of the rule. */
export function countCapped<T extends CapSubject>(pod: Pod<T>, caps: CapCheck, metrics: Metrics): void {
  for (const skip of pod.skipped) {
    if (skip.reason === 'capped') metrics.adsCapped.inc({ scope: caps.cappedBy(skip.item)?.scope ?? 'unknown' });
  }
}

export class DecisionService {
  readonly #deps: DecisionDeps;

  constructor(deps: DecisionDeps) {
    this.#deps = deps;
  }

  /**
   * Fetches every source with the macros of `ctx` (on behalf of its device, or of a
   * cohort when it has none), reports the errors, and returns the candidates.
   */
  async gather(ctx: MacroContext): Promise<CandidateSet> {
    const { settings, errors } = this.#deps;
    const macros = decisionMacros(ctx);
    const beacon = ctx.device === null ? undefined : beaconDevice(ctx.device);
    const headers = serverSideHeaders(beacon, settings.serverUserAgent);
    const results = await resolveSources(settings.sources, macros, headers, settings);
    const set = collectCandidates(results, settings.mediaTypes);
    errors.report(
      results.flatMap((r) => r.errors),
      set.failed,
      macros,
      beacon,
    );
    return set;
  }

  /** Stores the ad in the registry and returns its metadata id. */
  async register(candidate: Candidate): Promise<string> {
    return this.#deps.registry.put(metadataFromAd(candidate.ad, candidate.creative, candidate.primaryMedia));
  }

  /** Mints the token of one ad at one place in a pod. */
  mint(candidate: { readonly adId: string; readonly creativeId: string; readonly campaignId: string }, mid: string, sequence: number, breakId: string | null, playbackSessionId: string): Promise<string> {
    return this.#deps.tokens.mint({ mid, ad: candidate.adId, cr: candidate.creativeId, cmp: candidate.campaignId, seq: sequence, brk: breakId, playbackSessionId });
  }

  /** The viewer's caps for these candidates. */
  async capsFor(device: DecisionDevice, subjects: readonly CapSubject[], liveEventId: string | null): Promise<CapCheck> {
    const { capRules, capKey, state } = this.#deps;
    if (capRules.length === 0) return CapCheck.none();
    return CapCheck.load(state, capRules, profileKeyOf(capKey, device.profileId, device.deviceId), subjects, liveEventId);
  }

  /** A decision fetched for this request (VOD, or live outside a cued break). */
  async decide(request: DecisionRequest, decisionId: string, cohort: { key: string; country: string | null; deviceClass: string; consentClass: string }): Promise<DecisionResponse> {
    const { settings, metrics } = this.#deps;
    const limits: PodLimits = {
      maxAds: request.podMaxAds ?? settings.defaultPodMaxAds,
      maxDurationMs: request.podMaxDurationMs ?? settings.defaultPodMaxDurationMs,
    };
    const set = await this.gather({
      decisionId,
      contentId: request.contentId,
      breakPosition: request.breakPosition,
      podMaxAds: limits.maxAds,
      podMaxDurationMs: limits.maxDurationMs,
      liveEventId: request.liveEventId,
      breakId: request.breakId,
      cohort: cohort.key,
      country: cohort.country,
      deviceClass: cohort.deviceClass,
      consentClass: cohort.consentClass,
      device: request.device,
      consent: request.consent,
    });
    const candidates = [...set.primary.filter((c): c is Candidate => c !== null), ...set.buffet];
    const caps = await this.capsFor(request.device, candidates, request.liveEventId);
    const pod = assemblePod(set.primary, set.buffet, limits, capViewer<Candidate>(caps));
    countCapped(pod, caps, metrics);
    const ads: DecisionAd[] = await Promise.all(
      pod.ads.map(async ({ item, sequence }) => {
        const mid = await this.register(item);
        return decisionAd(adViewOf(item), sequence, await this.mint(item, mid, sequence, request.breakId, request.playbackSessionId));
      }),
    );
    return {
      decisionId,
      playbackSessionId: request.playbackSessionId,
      liveEventId: request.liveEventId,
      breakId: request.breakId,
      source: 'vast',
      cohort: null,
      durationMs: pod.durationMs,
      ads,
    };
  }
}
