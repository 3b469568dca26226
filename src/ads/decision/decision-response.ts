/**
 * The answer to POST /v1/decisions. Devices get what they need to play and report:
 * the ids, the media files, the click-through and the opaque token per ad. Vendor
 * tracking URLs stay in the Ads Metadata Registry: devices report to the collector
 * ("device-originated, server-proxied") and never see them.
 */
import type { CapSubject } from '../caps/cap-keys.ts';
import type { Candidate, DeviceMediaFile } from './candidates.ts';

/** An ad as a device sees it, before it has a place in a pod. */
export interface AdView extends CapSubject {
  readonly adId: string;
  readonly adServingId: string | null;
  readonly adTitle: string | null;
  readonly durationMs: number;
  /** When the viewer may skip, in ms from the start; null = not skippable. */
  readonly skipOffsetMs: number | null;
  readonly mediaFiles: readonly DeviceMediaFile[];
  readonly clickThrough: string | null;
}

/** One ad of the answer. */
export interface DecisionAd extends AdView {
  /** Place in the pod, from 1. */
  readonly sequence: number;
  /** The opaque token the device sends with every telemetry event of this ad. */
  readonly token: string;
}

/** The answer. */
export interface DecisionResponse {
  readonly decisionId: string;
  readonly playbackSessionId: string;
  readonly liveEventId: string | null;
  readonly breakId: string | null;
  /** `vast`: fetched for this request; `prefetched`: served from a live break's prefetched pod. */
  readonly source: 'vast' | 'prefetched';
  /** The cohort whose pod was served (live breaks only). */
  readonly cohort: string | null;
  /** Total duration of `ads`. */
  readonly durationMs: number;
  readonly ads: readonly DecisionAd[];
}

/** The device's view of a candidate. */
export function adViewOf(candidate: Candidate): AdView {
  return {
    adId: candidate.adId,
    creativeId: candidate.creativeId,
    campaignId: candidate.campaignId,
    lineItemId: candidate.lineItemId,
    advertiserId: candidate.advertiserId,
    adServingId: candidate.ad.adServingId,
    adTitle: candidate.ad.adTitle,
    durationMs: candidate.durationMs,
    skipOffsetMs: candidate.creative.skipOffsetMs,
    mediaFiles: candidate.mediaFiles,
    clickThrough: candidate.creative.clickThrough,
  };
}

/** One answer ad: exactly the view's fields, a sequence and a token (nothing else leaks). */
export function decisionAd(view: AdView, sequence: number, token: string): DecisionAd {
  return {
    sequence,
    adId: view.adId,
    creativeId: view.creativeId,
    campaignId: view.campaignId,
    lineItemId: view.lineItemId,
    advertiserId: view.advertiserId,
    adServingId: view.adServingId,
    adTitle: view.adTitle,
    durationMs: view.durationMs,
    skipOffsetMs: view.skipOffsetMs,
    mediaFiles: view.mediaFiles,
    clickThrough: view.clickThrough,
    token,
  };
}
