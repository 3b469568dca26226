/**
 * Folding a wrapper chain into the InLine ad it leads to (VAST 4.x, Wrapper
 * ads): every wrapper's impression, error, viewability, verification, tracking and
 * click-tracking URIs must fire along with the InLine's. Wrappers' come first, outermost
 * first; duplicates are kept, since each party counts its own pixel.
 */
import type { Ad, Creative, LinearCreative, TrackingUri } from './model.ts';
import { listAt } from './record.ts';

/** What the wrappers of one chain add to creatives of one type. */
interface WrapperCreativeExtras {
  readonly tracking: Record<string, TrackingUri[]>;
  readonly clickTrackingUris: string[];
}

/** What a chain adds to every creative, by creative type. */
interface ChainExtras {
  readonly byType: Readonly<Record<Creative['type'], WrapperCreativeExtras>>;
  readonly customClickUris: string[];
  /** The innermost wrapper's linear ClickThrough, used when the InLine has none (VAST 2 practice). */
  readonly clickThrough: string | null;
}

/**
 * The InLine `ad` as reached through `wrappers` (outermost first), whose
 * `VASTAdTagURI`s were `wrapperUris`.
 */
export function mergeWrappers(wrappers: readonly Ad[], wrapperUris: readonly string[], ad: Ad): Ad {
  if (wrappers.length === 0) return ad;
  const extras = chainExtras(wrappers);
  return {
    ...ad,
    wrapperUris: [...wrapperUris, ...ad.wrapperUris],
    impressionUris: concat(wrappers, ad, (a) => a.impressionUris),
    errorUris: concat(wrappers, ad, (a) => a.errorUris),
    viewable: {
      viewable: concat(wrappers, ad, (a) => a.viewable.viewable),
      notViewable: concat(wrappers, ad, (a) => a.viewable.notViewable),
      viewUndetermined: concat(wrappers, ad, (a) => a.viewable.viewUndetermined),
    },
    verifications: concat(wrappers, ad, (a) => a.verifications),
    extensions: concat(wrappers, ad, (a) => a.extensions),
    creatives: ad.creatives.map((creative) => mergeCreative(creative, extras)),
  };
}

function concat<T>(wrappers: readonly Ad[], ad: Ad, pick: (a: Ad) => readonly T[]): T[] {
  const out: T[] = [];
  for (const wrapper of wrappers) out.push(...pick(wrapper));
  out.push(...pick(ad));
  return out;
}

function chainExtras(wrappers: readonly Ad[]): ChainExtras {
  const byType = {
    linear: emptyExtras(),
    nonlinear: emptyExtras(),
    companion: emptyExtras(),
  };
  const customClickUris: string[] = [];
  let clickThrough: string | null = null;
  // The NonLinear entries of one <NonLinearAds> share its tracking map: take it once.
  const seen = new Set<object>();
  for (const wrapper of wrappers) {
    for (const creative of wrapper.creatives) {
      const extras = byType[creative.type];
      if (!seen.has(creative.tracking)) {
        seen.add(creative.tracking);
        appendTracking(extras.tracking, creative.tracking);
      }
      extras.clickTrackingUris.push(...creative.clickTrackingUris);
      if (creative.type === 'linear') {
        customClickUris.push(...creative.customClickUris);
        clickThrough = creative.clickThrough ?? clickThrough;
      }
    }
  }
  return { byType, customClickUris, clickThrough };
}

function emptyExtras(): WrapperCreativeExtras {
  return { tracking: {}, clickTrackingUris: [] };
}

function appendTracking(into: Record<string, TrackingUri[]>, from: Readonly<Record<string, readonly TrackingUri[]>>): void {
  for (const [event, uris] of Object.entries(from)) listAt(into, event).push(...uris);
}

function mergeCreative(creative: Creative, chain: ChainExtras): Creative {
  const extras = chain.byType[creative.type];
  const tracking: Record<string, TrackingUri[]> = {};
  appendTracking(tracking, extras.tracking);
  appendTracking(tracking, creative.tracking);
  const merged = {
    ...creative,
    tracking,
    clickTrackingUris: [...extras.clickTrackingUris, ...creative.clickTrackingUris],
  };
  if (merged.type !== 'linear') return merged;
  const linear: LinearCreative = {
    ...merged,
    customClickUris: [...chain.customClickUris, ...merged.customClickUris],
    clickThrough: merged.clickThrough ?? chain.clickThrough,
  };
  return linear;
}
