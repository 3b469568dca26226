/**
 * What the Ads Metadata Registry keeps for one ad: everything the pipeline and the
 * pixels sink need that a device must not carry (vendor URLs, pricing, ids). An entry
 * is keyed by a hash of its content, so one ad shown to a million viewers is one entry.
 */
import { createHash } from 'node:crypto';
import type { TrackingUri, Verification } from '../vast/model.ts';

/** The campaign identity of an ad (see campaign-identity.ts for where each comes from). */
export interface CampaignIdentity {
  readonly campaignId: string;
  readonly lineItemId: string;
  readonly advertiserId: string;
}

/** One registry entry. */
export interface AdMetadata extends CampaignIdentity {
  /** Entry format version. */
  readonly v: 1;
  readonly adId: string;
  readonly creativeId: string;
  readonly adSystem: string | null;
  readonly adTitle: string | null;
  readonly adServingId: string | null;
  readonly durationMs: number | null;
  readonly pricing: { readonly model: string; readonly currency: string; readonly value: number } | null;
  /** The media file chosen for the device ([ASSETURI] in beacons). */
  readonly mediaUri: string | null;
  readonly clickThrough: string | null;
  /** Wrappers' first, then the inline's, duplicates kept (VAST: each party counts its own). */
  readonly impressionUris: readonly string[];
  readonly errorUris: readonly string[];
  readonly clickTrackingUris: readonly string[];
  /** Linear tracking events (start, firstQuartile, progress with offsets…), wrappers' merged in. */
  readonly tracking: Readonly<Record<string, readonly TrackingUri[]>>;
  readonly viewable: {
    readonly viewable: readonly string[];
    readonly notViewable: readonly string[];
    readonly viewUndetermined: readonly string[];
  };
  readonly verifications: readonly Verification[];
  /** Host names of every party that receives a beacon for this ad (for consent and reporting). */
  readonly vendors: readonly string[];
}

/** JSON with object keys sorted, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The registry id of an entry: base64url of the first 16 bytes of SHA-256 over its canonical JSON. */
export function metadataIdOf(metadata: AdMetadata): string {
  return createHash('sha256').update(canonicalJson(metadata)).digest().subarray(0, 16).toString('base64url');
}
