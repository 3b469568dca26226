/** Builds a registry entry from a resolved VAST ad and the linear creative chosen for it. */
import { URL } from 'node:url';
import type { Ad, LinearCreative, MediaFile } from '../vast/model.ts';
import type { AdMetadata } from './ad-metadata.ts';
import { campaignIdentity, creativeIdOf } from './campaign-identity.ts';

function hostOf(uri: string): string | null {
  try {
    return new URL(uri).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** The metadata of `ad` played with `creative` and `media`. */
export function metadataFromAd(ad: Ad, creative: LinearCreative | undefined, media: MediaFile | undefined): AdMetadata {
  const tracking = creative?.tracking ?? {};
  const impressionUris = [...ad.impressionUris];
  const errorUris = [...ad.errorUris];
  const clickTrackingUris = [...(creative?.clickTrackingUris ?? [])];
  const uris = [
    ...impressionUris,
    ...errorUris,
    ...clickTrackingUris,
    ...Object.values(tracking).flatMap((list) => list.map((t) => t.uri)),
    ...ad.viewable.viewable,
    ...ad.viewable.notViewable,
    ...ad.viewable.viewUndetermined,
    ...ad.verifications.flatMap((v) => Object.values(v.tracking).flat()),
  ];
  const vendors = [...new Set(uris.map(hostOf).filter((h): h is string => h !== null))].sort();
  return {
    v: 1,
    ...campaignIdentity(ad),
    adId: ad.id ?? creativeIdOf(creative),
    creativeId: creativeIdOf(creative),
    adSystem: ad.adSystem,
    adTitle: ad.adTitle,
    adServingId: ad.adServingId,
    durationMs: creative?.durationMs ?? null,
    pricing: ad.pricing,
    mediaUri: media?.uri ?? null,
    clickThrough: creative?.clickThrough ?? null,
    impressionUris,
    errorUris,
    clickTrackingUris,
    tracking,
    viewable: ad.viewable,
    verifications: ad.verifications,
    vendors,
  };
}
