/**
 * From resolved VAST to pod candidates: each ad gets its linear creative, the media
 * files devices can play, its duration and its campaign identity. An ad that cannot
 * be played here is a failed slot, reported with its IAB code (VAST 4.x §2.3.6.3:
 * 201 no linear creative, 403 no supported media file, 101 no duration).
 */
import type { CapSubject } from '../caps/cap-keys.ts';
import { campaignIdentity, creativeIdOf } from '../registry/campaign-identity.ts';
import type { ReasonCode } from '../../core/reason-codes.ts';
import type { Ad, LinearCreative, MediaFile } from '../vast/index.ts';

/** A media file as the device receives it. */
export interface DeviceMediaFile {
  readonly uri: string;
  readonly type: string | null;
  readonly delivery: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly bitrate: number | null;
  readonly codec: string | null;
}

/** A playable ad, ready for pod assembly. */
export interface Candidate extends CapSubject {
  readonly sourceId: string;
  readonly ad: Ad;
  readonly adId: string;
  readonly creative: LinearCreative;
  /** Playable files, in `ads.mediaTypes` order, then highest bitrate first. */
  readonly mediaFiles: readonly DeviceMediaFile[];
  /** The file recorded in the registry as [ASSETURI]: the first of `mediaFiles`. */
  readonly primaryMedia: MediaFile;
  readonly durationMs: number;
}

/** An ad that cannot be played, and the IAB code its Error URIs hear. */
export interface FailedAd {
  readonly sourceId: string;
  readonly ad: Ad;
  readonly code: 101 | 201 | 403;
  readonly reason: ReasonCode;
  readonly message: string;
}

/** The ads of one decision, split the way pod assembly uses them. */
export interface CandidateSet {
  /** Pod ads in source order then sequence order; null marks a slot whose ad failed. */
  readonly primary: readonly (Candidate | null)[];
  /** Stand-alone ads, in source order then document order. */
  readonly buffet: readonly Candidate[];
  readonly failed: readonly FailedAd[];
}

function toDeviceMedia(file: MediaFile): DeviceMediaFile {
  return { uri: file.uri, type: file.type, delivery: file.delivery, width: file.width, height: file.height, bitrate: file.bitrate, codec: file.codec };
}

/** The files of `creative` a device plays, best first; empty when none. */
function playableMedia(creative: LinearCreative, mediaTypes: readonly string[]): MediaFile[] {
  const rank = (file: MediaFile): number => (file.type === null ? -1 : mediaTypes.findIndex((t) => t.toLowerCase() === file.type!.toLowerCase()));
  return creative.mediaFiles
    .filter((file) => rank(file) >= 0 && file.apiFramework?.toUpperCase() !== 'VPAID')
    .sort((a, b) => rank(a) - rank(b) || (b.bitrate ?? 0) - (a.bitrate ?? 0));
}

/** The candidate made of `ad`, or why it cannot be played. */
function toCandidate(sourceId: string, ad: Ad, mediaTypes: readonly string[]): Candidate | FailedAd {
  const linears = ad.creatives.filter((c): c is LinearCreative => c.type === 'linear');
  if (linears.length === 0) {
    return { sourceId, ad, code: 201, reason: 'DECISION_NO_PLAYABLE_MEDIA', message: `Ad ${ad.id ?? '(no id)'} has no linear creative; a video pod needs one.` };
  }
  let creative: LinearCreative | undefined;
  let files: MediaFile[] = [];
  for (const linear of linears) {
    files = playableMedia(linear, mediaTypes);
    if (files.length > 0) {
      creative = linear;
      break;
    }
  }
  if (creative === undefined) {
    return { sourceId, ad, code: 403, reason: 'DECISION_NO_PLAYABLE_MEDIA', message: `Ad ${ad.id ?? '(no id)'} has no media file of a type in ads.mediaTypes (${mediaTypes.join(', ')}).` };
  }
  if (creative.durationMs === null || creative.durationMs <= 0) {
    return { sourceId, ad, code: 101, reason: 'VAST_SCHEMA_INVALID', message: `Ad ${ad.id ?? '(no id)'} has a linear creative with no usable <Duration>.` };
  }
  const creativeId = creativeIdOf(creative);
  return {
    sourceId,
    ad,
    adId: ad.id ?? creativeId,
    creative,
    ...campaignIdentity(ad),
    creativeId,
    mediaFiles: files.map(toDeviceMedia),
    primaryMedia: files[0]!,
    durationMs: creative.durationMs,
  };
}

function isCandidate(value: Candidate | FailedAd): value is Candidate {
  return 'creative' in value;
}

/** Splits the ads of each source (in priority order) into pod slots, buffet and failures. */
export function collectCandidates(sources: readonly { readonly sourceId: string; readonly ads: readonly Ad[] }[], mediaTypes: readonly string[]): CandidateSet {
  const primary: (Candidate | null)[] = [];
  const buffet: Candidate[] = [];
  const failed: FailedAd[] = [];
  for (const source of sources) {
    for (const ad of source.ads) {
      if (ad.kind !== 'inline') continue;
      const made = toCandidate(source.sourceId, ad, mediaTypes);
      if (!isCandidate(made)) failed.push(made);
      if (ad.sequence !== null) primary.push(isCandidate(made) ? made : null);
      else if (isCandidate(made)) buffet.push(made);
    }
  }
  return { primary, buffet, failed };
}
