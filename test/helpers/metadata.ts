/** A sample registry entry for tests. */
import type { AdMetadata } from '../../src/ads/registry/ad-metadata.ts';

/** A complete registry entry; override any field. */
export function sampleMetadata(overrides: Partial<AdMetadata> = {}): AdMetadata {
  return {
    v: 1,
    adId: 'ad-1',
    creativeId: 'cr-1',
    campaignId: 'cmp-1',
    lineItemId: 'li-1',
    advertiserId: 'adv-1',
    adSystem: 'GAM',
    adTitle: 'Spot',
    adServingId: null,
    durationMs: 15_000,
    pricing: { model: 'CPM', currency: 'USD', value: 25 },
    mediaUri: 'https://cdn.example/ad.mp4',
    clickThrough: null,
    impressionUris: ['https://px.example/imp?cb=[CACHEBUSTING]'],
    errorUris: ['https://px.example/err?code=[ERRORCODE]'],
    clickTrackingUris: [],
    tracking: { start: [{ uri: 'https://px.example/start' }] },
    viewable: { viewable: [], notViewable: [], viewUndetermined: [] },
    verifications: [],
    vendors: ['px.example'],
    ...overrides,
  };
}
