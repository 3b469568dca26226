/**
 * The typed VAST model: what `parseVast` and `resolveVast` return, and what the
 * `quartile vast` command prints as JSON.
 *
 * The fields named in issue 3 (VastResult, Ad, Creative) are a contract: the Ads
 * Manager, the metadata registry and the pixels sink read them by name. Fields may be
 * added; none may be renamed or change meaning.
 *
 * Every URI is trimmed (VAST servers wrap them in CDATA with surrounding whitespace)
 * and otherwise left exactly as served: macros such as `[ERRORCODE]` are expanded only
 * when a URI is fired, by `expandMacros`.
 */
import type { ReasonCode } from '../../core/reason-codes.ts';
import type { VastErrorCode } from './errors.ts';

/** The result of parsing one VAST document, or of resolving a whole wrapper chain. */
export interface VastResult {
  /** The `version` attribute of the outermost `<VAST>` element; null when absent or unreadable. */
  readonly version: string | null;
  /** Pod ads first in `sequence` order, then buffet ads in document order. */
  readonly ads: readonly Ad[];
  /** Every problem found, each with its IAB error code. Empty means a clean parse. */
  readonly errors: readonly VastError[];
  /** Root-level `<VAST><Error>` URIs of every document read, outermost first. */
  readonly errorUris: readonly string[];
  /**
   * Error URIs that were fired (only when resolving with `fireErrors`), one entry per
   * request, so that nothing is sent or lost silently.
   */
  readonly firedErrorUris?: readonly FiredUri[];
}

/** One problem found while parsing or resolving, reported with its IAB code (VAST 4.x §2.3.6.3). */
export interface VastError {
  /** The IAB VAST error code, e.g. 301; this is what `[ERRORCODE]` becomes. */
  readonly code: VastErrorCode;
  /** Quartile's stable reason code, finer than the IAB code (e.g. NET_ADDRESS_REFUSED under 301). */
  readonly reason: ReasonCode;
  /** What went wrong, in words a person can act on. */
  readonly message: string;
  /** The VAST URI being fetched or parsed when it happened, when there was one. */
  readonly uri?: string;
  /** The `id` of the `<Ad>` concerned, when the error belongs to one ad. */
  readonly adId?: string | null;
  /**
   * The `<Error>` URIs that report this error: the wrappers' involved (outermost
   * first), then the failing ad's or document's own. These are what `fireErrors` sends.
   */
  readonly errorUris: readonly string[];
}

/** The outcome of firing one Error URI. */
export interface FiredUri {
  /** The URI as sent, macros expanded. */
  readonly uri: string;
  /** The HTTP status, or null when no response came back. */
  readonly status: number | null;
  /** Why the request failed, when it did (a reason code such as NET_TIMEOUT). */
  readonly reason?: ReasonCode;
}

/** One ad: an InLine (possibly reached through wrappers), or a Wrapper not followed. */
export interface Ad {
  /** The `id` attribute of `<Ad>`. */
  readonly id: string | null;
  /** The `sequence` attribute: the ad's place in a pod. null = a buffet (stand-alone) ad. */
  readonly sequence: number | null;
  /** `inline` for a playable ad; `wrapper` for a Wrapper that was parsed but not followed. */
  readonly kind: 'inline' | 'wrapper';
  /** For a `wrapper` ad, the trimmed `VASTAdTagURI` to follow next; null for inline ads. */
  readonly vastAdTagUri: string | null;
  /** The `adType` attribute (VAST 4.1+: video, audio, hybrid). */
  readonly adType: string | null;
  readonly adSystem: string | null;
  /** The `version` attribute of `<AdSystem>`. */
  readonly adSystemVersion: string | null;
  readonly adTitle: string | null;
  /** VAST 4.1+ `<AdServingId>`, the id shared by every party for this impression. */
  readonly adServingId: string | null;
  readonly advertiser: string | null;
  readonly description: string | null;
  /** `<Category>` elements (VAST 4.0+): the category code and the authority that defines it. */
  readonly categories: readonly { readonly authority: string | null; readonly value: string }[];
  /** `<Expires>` (VAST 4.1+): seconds the ad may be cached for; null when absent. */
  readonly expiresSeconds: number | null;
  /** The wrapper attributes; null for inline ads. Kept so a caller can resolve later. */
  readonly wrapperPolicy: WrapperPolicy | null;
  /** The `VASTAdTagURI` of each wrapper followed to reach this ad, outermost first. */
  readonly wrapperUris: readonly string[];
  /** Wrappers' first (outermost first), then the inline's; duplicates kept. */
  readonly impressionUris: readonly string[];
  /** Wrappers' first (outermost first), then the inline's; duplicates kept. */
  readonly errorUris: readonly string[];
  /** `<ViewableImpression>` URIs, wrappers' first. */
  readonly viewable: {
    readonly viewable: readonly string[];
    readonly notViewable: readonly string[];
    readonly viewUndetermined: readonly string[];
  };
  /** `<Pricing>`; null when absent or when its value is not a number. */
  readonly pricing: { readonly model: string; readonly currency: string; readonly value: number } | null;
  /** `<AdVerifications>` (or, before VAST 4.1, the `AdVerifications` extension), wrappers' first. */
  readonly verifications: readonly Verification[];
  /** One entry per Linear, per NonLinear and per Companion, in document order. */
  readonly creatives: readonly Creative[];
  /** `<Extension>` elements, kept as raw XML; wrappers' first. */
  readonly extensions: readonly { readonly type: string | null; readonly xml: string }[];
}

/** The attributes of `<Wrapper>` (VAST 3.0+) that steer how its response is used. */
export interface WrapperPolicy {
  /** false: any Wrapper in the response is ignored. Default true. */
  readonly followAdditionalWrappers: boolean;
  /** false: only the first stand-alone ad of the response is used. Default false (true before VAST 3). */
  readonly allowMultipleAds: boolean;
  /** true: when the response has no ad, a buffet ad of this document may take this ad's place. */
  readonly fallbackOnNoAd: boolean | null;
}

/** One `<Verification>`: an open-measurement script and its parameters. */
export interface Verification {
  readonly vendor: string | null;
  /** `<JavaScriptResource>` URIs. */
  readonly javascriptUris: readonly string[];
  /** `<ExecutableResource>` URIs (non-JavaScript verification code). */
  readonly executableUris: readonly string[];
  /** `<VerificationParameters>`, as served. */
  readonly parameters: string | null;
  /** Verification tracking (e.g. `verificationNotExecuted`), event name → URIs. */
  readonly tracking: Readonly<Record<string, readonly string[]>>;
}

/** A tracking URI; `offset` is kept as served for `progress` events (`00:00:10.000` or `25%`). */
export interface TrackingUri {
  readonly uri: string;
  readonly offset?: string;
}

/** `<MediaFile>`: one rendition of a linear creative. */
export interface MediaFile {
  readonly uri: string;
  readonly id: string | null;
  readonly type: string | null;
  readonly delivery: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly bitrate: number | null;
  readonly minBitrate: number | null;
  readonly maxBitrate: number | null;
  readonly codec: string | null;
  readonly apiFramework: string | null;
  readonly fileSize: number | null;
  readonly mediaType: string | null;
}

/** `<Mezzanine>` (VAST 4.0+): the high-quality source file for server-side transcoding. */
export interface Mezzanine {
  readonly uri: string;
  readonly type: string | null;
  readonly delivery: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly codec: string | null;
  readonly fileSize: number | null;
  readonly mediaType: string | null;
}

/** `<InteractiveCreativeFile>` (VAST 4.0+), e.g. a SIMID creative. */
export interface InteractiveCreativeFile {
  readonly uri: string;
  readonly type: string | null;
  readonly apiFramework: string | null;
  readonly variableDuration: boolean | null;
}

/** `<ClosedCaptionFile>` (VAST 4.1+). */
export interface ClosedCaptionFile {
  readonly uri: string;
  readonly type: string | null;
  readonly language: string | null;
}

/** A creative resource: an image or script URI, an iframe URI, or inline HTML. */
export interface Resource {
  readonly kind: 'static' | 'iframe' | 'html';
  /** The URI, or for `html` the markup itself (trimmed). */
  readonly value: string;
  /** `creativeType` of a StaticResource, e.g. `image/png`. */
  readonly creativeType: string | null;
}

/** `<Icon>` of a linear creative (AdChoices and the like). */
export interface Icon {
  readonly program: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly xPosition: string | null;
  readonly yPosition: string | null;
  readonly durationMs: number | null;
  readonly offset: string | null;
  readonly apiFramework: string | null;
  readonly resources: readonly Resource[];
  readonly clickThrough: string | null;
  readonly clickTrackingUris: readonly string[];
  readonly viewTrackingUris: readonly string[];
}

/** The fields every creative entry has, whatever its type (the Creative contract). */
interface CreativeBase {
  /** `id` of the `<Creative>` element. */
  readonly id: string | null;
  /** `adId` (also spelled `AdID`/`adID` in VAST 2 and 3) of the `<Creative>` element. */
  readonly adId: string | null;
  readonly sequence: number | null;
  /** `apiFramework` of the `<Creative>` element (VAST 4.1+). */
  readonly creativeApiFramework: string | null;
  /** `<UniversalAdId>` values; several are allowed since VAST 4.1. */
  readonly universalAdIds: readonly { readonly idRegistry: string; readonly value: string }[];
  readonly durationMs: number | null;
  /** `skipoffset` as served: a time (`00:00:05`) or a percentage (`25%`). */
  readonly skipOffset: string | null;
  readonly mediaFiles: readonly MediaFile[];
  readonly clickThrough: string | null;
  /** Click-tracking URIs, wrappers' first. */
  readonly clickTrackingUris: readonly string[];
  /** Event name → URIs, wrappers' first (outermost first), then this creative's. */
  readonly tracking: Readonly<Record<string, readonly TrackingUri[]>>;
  /** `<AdParameters>` as served (trimmed). */
  readonly adParameters: string | null;
}

/** One `<Linear>`. */
export interface LinearCreative extends CreativeBase {
  readonly type: 'linear';
  /** skipoffset in milliseconds, percentages resolved against the duration; null when not skippable. */
  readonly skipOffsetMs: number | null;
  readonly mezzanine: readonly Mezzanine[];
  readonly interactiveCreativeFiles: readonly InteractiveCreativeFile[];
  readonly closedCaptionFiles: readonly ClosedCaptionFile[];
  /** `<CustomClick>` URIs. */
  readonly customClickUris: readonly string[];
  readonly icons: readonly Icon[];
}

/** One `<NonLinear>` of a `<NonLinearAds>`; the tracking of its NonLinearAds is copied in. */
export interface NonLinearCreative extends CreativeBase {
  readonly type: 'nonlinear';
  /** `id` of the `<NonLinear>` element. */
  readonly elementId: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly apiFramework: string | null;
  readonly minSuggestedDurationMs: number | null;
  readonly resources: readonly Resource[];
}

/** One `<Companion>` of a `<CompanionAds>`. */
export interface CompanionCreative extends CreativeBase {
  readonly type: 'companion';
  /** `id` of the `<Companion>` element. */
  readonly elementId: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly apiFramework: string | null;
  readonly adSlotId: string | null;
  /** The `required` attribute of the enclosing `<CompanionAds>`: all, any or none. */
  readonly required: string | null;
  readonly altText: string | null;
  readonly resources: readonly Resource[];
}

/** One creative entry; `type` tells which. */
export type Creative = LinearCreative | NonLinearCreative | CompanionCreative;
