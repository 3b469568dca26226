/**
 * Pod assembly (VAST 4.x, "Ad Pods" and "Ad Buffets"): pod ads are taken in sequence
 * while they fit the pod's count and duration. When a pod ad failed, is capped for
 * this viewer or does not fit, the first stand-alone (buffet) ad that can be shown
 * takes its slot; when none can, the slot is skipped. Room left after the pod ads is
 * filled from the buffet, so a source that answers with stand-alone ads only still
 * fills the break. Chosen ads are numbered 1, 2, 3… in the order they play.
 *
 * Pure: the same inputs give the same pod, which is what lets a live break's herd be
 * served from a pod assembled once.
 */

/** What assembly needs to know of an ad. */
export interface PodItem {
  readonly durationMs: number;
}

/** The pod's limits. */
export interface PodLimits {
  readonly maxAds: number;
  readonly maxDurationMs: number;
}

/** Why an ad was left out. */
export type SkipReason = 'capped' | 'did-not-fit';

/** The assembled pod. */
export interface Pod<T> {
  readonly ads: ReadonlyArray<{ readonly item: T; readonly sequence: number }>;
  readonly durationMs: number;
  /** Pod ads left out (capped or too long), and buffet ads a cap kept out. */
  readonly skipped: ReadonlyArray<{ readonly item: T; readonly reason: SkipReason }>;
}

/** Per-viewer rules: whether an ad is capped, and counting a chosen ad. */
export interface PodViewer<T> {
  isCapped(item: T): boolean;
  reserve(item: T): void;
}

const NO_CAPS: PodViewer<unknown> = { isCapped: () => false, reserve: () => {} };

/** Assembles a pod from `primary` (null = a failed slot) and `buffet`. */
export function assemblePod<T extends PodItem>(primary: readonly (T | null)[], buffet: readonly T[], limits: PodLimits, viewer: PodViewer<T> = NO_CAPS): Pod<T> {
  const ads: Array<{ item: T; sequence: number }> = [];
  const skipped: Array<{ item: T; reason: SkipReason }> = [];
  const usedBuffet = new Set<number>();
  let durationMs = 0;

  const full = (): boolean => ads.length >= limits.maxAds;
  const fits = (item: T): boolean => durationMs + item.durationMs <= limits.maxDurationMs;
  const take = (item: T): void => {
    ads.push({ item, sequence: ads.length + 1 });
    durationMs += item.durationMs;
    viewer.reserve(item);
  };
  /** The first unused buffet ad that can be shown now, taken; false when none. */
  const fillFromBuffet = (): boolean => {
    for (let i = 0; i < buffet.length; i++) {
      const item = buffet[i]!;
      if (usedBuffet.has(i) || !fits(item) || viewer.isCapped(item)) continue;
      usedBuffet.add(i);
      take(item);
      return true;
    }
    return false;
  };

  for (const item of primary) {
    if (full()) break;
    if (item !== null) {
      const capped = viewer.isCapped(item);
      if (!capped && fits(item)) {
        take(item);
        continue;
      }
      skipped.push({ item, reason: capped ? 'capped' : 'did-not-fit' });
    }
    fillFromBuffet();
  }
  while (!full() && fillFromBuffet());
  // Unused buffet ads are spares, not skips, unless a cap is what kept them out.
  for (let i = 0; i < buffet.length; i++) {
    const item = buffet[i]!;
    if (!usedBuffet.has(i) && viewer.isCapped(item)) skipped.push({ item, reason: 'capped' });
  }
  return { ads, durationMs, skipped };
}
