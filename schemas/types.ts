// Generated from schemas/*.avsc by `npm run schemas:types`. Do not edit by hand.

/** The live origin's notice of an upcoming ad break, so the Ads Manager can prefetch pods before the herd arrives. (Avro quartile.live.AdBreakCue) */
export interface AdBreakCue {
  /** The live event. */
  readonly liveEventId: string;
  /** The break, unique within the live event. */
  readonly breakId: string;
  /** When the break starts (ms since the epoch). */
  readonly startsAt: number;
  /** Planned break duration. */
  readonly durationMs: number;
  /** Most ads in the pod, when the origin limits it. */
  readonly podMaxAds: null | number;
  /** When the origin issued the cue. */
  readonly issuedAt: number;
}

/** What happened in ad playback (VAST 4.3 tracking events, plus Quartile's break and heartbeat markers). (Avro quartile.events.EventType) */
export type EventType =
  | 'impression'
  | 'viewableImpression'
  | 'notViewable'
  | 'viewUndetermined'
  | 'creativeView'
  | 'start'
  | 'firstQuartile'
  | 'midpoint'
  | 'thirdQuartile'
  | 'complete'
  | 'progress'
  | 'pause'
  | 'resume'
  | 'mute'
  | 'unmute'
  | 'rewind'
  | 'skip'
  | 'playerExpand'
  | 'playerCollapse'
  | 'closeLinear'
  | 'click'
  | 'error'
  | 'notUsed'
  | 'adBreakStart'
  | 'adBreakEnd'
  | 'heartbeat';

/** Every EventType, in schema order. */
export const EventTypeValues = ['impression', 'viewableImpression', 'notViewable', 'viewUndetermined', 'creativeView', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'progress', 'pause', 'resume', 'mute', 'unmute', 'rewind', 'skip', 'playerExpand', 'playerCollapse', 'closeLinear', 'click', 'error', 'notUsed', 'adBreakStart', 'adBreakEnd', 'heartbeat'] as const satisfies readonly EventType[];

/** Raw device identity. Used in flight only (server-side beacon headers, hashing); the hash step removes it and nothing stores it. (Avro quartile.events.Device) */
export interface Device {
  /** Device IP address as seen by the collector or reported by a server-side producer. */
  readonly ip: null | string;
  /** Device or player user agent. */
  readonly userAgent: null | string;
  /** Identifier for advertising (IFA), if the device exposes one. */
  readonly ifa: null | string;
  /** IAB IFA type, e.g. rida, aaid, idfa, tifa, ppid. */
  readonly ifaType: null | string;
  /** The streaming service's own device id. */
  readonly deviceId: null | string;
  /** The viewer profile id; frequency caps key on its hash. */
  readonly profileId: null | string;
}

/** Privacy signals that gate vendor beacons. (Avro quartile.events.Consent) */
export interface Consent {
  /** Whether GDPR applies; null when unknown. */
  readonly gdprApplies: null | boolean;
  /** IAB TCF v2 consent string ([GDPRCONSENT]). */
  readonly tcf: null | string;
  /** IAB GPP string ([GPPSTRING]). */
  readonly gpp: null | string;
  /** GPP section ids that apply ([GPPSECTIONID]). */
  readonly gppSid: readonly (number)[];
  /** The device's limit-ad-tracking flag ([LIMITADTRACKING]); blanks the IFA in beacons. */
  readonly limitAdTracking: boolean;
}

/** Live event context of an ad played in a live break. (Avro quartile.events.LiveContext) */
export interface LiveContext {
  /** The live event. */
  readonly liveEventId: string;
  /** The ad break within the live event. */
  readonly breakId: null | string;
}

/** The player application. (Avro quartile.events.App) */
export interface App {
  /** Application name or bundle id. */
  readonly name: string;
  /** Application version. */
  readonly version: null | string;
}

/** One ad playback event as a device or telemetry producer reported it, stamped by the collector. Key on the topic: playbackSessionId. (Avro quartile.events.AdEvent) */
export interface AdEvent {
  /** UUID made by the device for this event; retries of the same event reuse it. */
  readonly eventId: string;
  /** The playback event. */
  readonly eventType: EventType;
  /** The opaque ad token from the decision (compact JWE); resolves to registry metadata. */
  readonly token: string;
  /** The playback session (one viewing); the partition key, so a session's events stay in order. */
  readonly playbackSessionId: string;
  /** One play of one ad within the session; sessionization folds events by it. */
  readonly adInstanceId: string;
  /** When it happened, by the device clock (ms since the epoch). */
  readonly occurredAt: number;
  /** When the collector received it, by the collector clock (ms since the epoch). */
  readonly receivedAt: number;
  /** Position within the ad creative when it happened, in ms ([ADPLAYHEAD]). */
  readonly adPlayheadMs: null | number;
  /** VAST error code for error events ([ERRORCODE]). */
  readonly errorCode: null | number;
  /** Device identity, raw; used in flight only, never stored. */
  readonly device: Device;
  /** Consent signals. */
  readonly consent: Consent;
  /** Live event context; null for VOD. */
  readonly live: null | LiveContext;
  /** ISO 3166-1 alpha-2 country from the trusted edge header; never from the device body. */
  readonly country: null | string;
  /** The player application, when known. */
  readonly app: null | App;
  /** Id of the API key that sent the event, when keys are configured (never the key itself). */
  readonly producer: null | string;
}

/** The viewability verdict. (Avro quartile.events.Viewability) */
export type Viewability =
  | 'unknown'
  | 'viewable'
  | 'notViewable'
  | 'undetermined';

/** Every Viewability, in schema order. */
export const ViewabilityValues = ['unknown', 'viewable', 'notViewable', 'undetermined'] as const satisfies readonly Viewability[];

/** Why the session closed. (Avro quartile.events.CloseReason) */
export type CloseReason =
  | 'complete'
  | 'skip'
  | 'closeLinear'
  | 'error'
  | 'notUsed'
  | 'inactivity'
  | 'late';

/** Every CloseReason, in schema order. */
export const CloseReasonValues = ['complete', 'skip', 'closeLinear', 'error', 'notUsed', 'inactivity', 'late'] as const satisfies readonly CloseReason[];

/** All events of one ad instance folded together; emitted when the session closes, and again with a higher version when late events correct it. (Avro quartile.events.AdSession) */
export interface AdSession {
  /** The ad instance (session key). */
  readonly adInstanceId: string;
  /** 1 for the first close; higher for a corrected session. */
  readonly version: number;
  /** The playback session. */
  readonly playbackSessionId: string;
  /** Registry entry of the ad. */
  readonly metadataId: string;
  /** Campaign id. */
  readonly campaignId: string;
  /** Creative id. */
  readonly creativeId: string;
  /** Keyed HMAC of the viewer profile. */
  readonly profileHash: string;
  /** Live event context; null for VOD. */
  readonly live: null | LiveContext;
  /** A start event was seen. */
  readonly started: boolean;
  /** 0 to 4: firstQuartile, midpoint, thirdQuartile, complete. */
  readonly quartilesReached: number;
  /** A complete event was seen. */
  readonly completed: boolean;
  /** A skip event was seen. */
  readonly skipped: boolean;
  /** Click events. */
  readonly clicks: number;
  /** Error events. */
  readonly errors: number;
  /** Greatest playhead reached, in ms. */
  readonly watchedMs: number;
  /** Viewability from viewableImpression, notViewable or viewUndetermined. */
  readonly viewability: Viewability;
  /** Events folded into this session. */
  readonly eventCount: number;
  /** Event time of the first event. */
  readonly firstEventAt: number;
  /** Event time of the last event. */
  readonly lastEventAt: number;
  /** When the session closed (the terminal event, or the watermark passing the inactivity gap). */
  readonly closedAt: number;
  /** Why the session closed. */
  readonly closeReason: CloseReason;
}

/** Vendor beacons waiting to be fired: the work the pipeline records for beacon delivery (ads.beacons), or beacons of one vendor domain waiting for their next attempt (ads.beacons.retry). The beacons and their events' device context are sealed, because the context holds raw device identifiers. (Avro quartile.beacons.BeaconBatch) */
export interface BeaconBatch {
  /** When this record was written. */
  readonly queuedAt: number;
  /** The earliest next attempt of any beacon in the record (ms since the epoch). */
  readonly due: number;
  /** On the retry topic: the vendor domain all its beacons go to. Null for the pipeline's work, which mixes domains. */
  readonly host: null | string;
  /** How many events' contexts the sealed payload holds. */
  readonly events: number;
  /** How many beacons the sealed payload holds. */
  readonly beacons: number;
  /** AES-256-GCM under pixels.queueKey, bound to the record key: the beacons, their URI templates and their events' contexts (macro values, device IP and user agent, IFA, the raw record for dead letters). */
  readonly sealed: Buffer;
}

/** Where a record was read from. (Avro quartile.events.SourcePosition) */
export interface SourcePosition {
  /** Source topic. */
  readonly topic: string;
  /** Source partition. */
  readonly partition: number;
  /** Source offset. */
  readonly offset: number;
}

/** An event the pipeline could not process, with the reason and its original bytes, so it can be inspected and replayed once the cause is fixed. (Avro quartile.events.DeadLetter) */
export interface DeadLetter {
  /** Stable reason code, e.g. DECRYPT_TOKEN_EXPIRED or SINK_PIXEL_HTTP_5XX. */
  readonly code: string;
  /** The processor or sink that failed it. */
  readonly stage: string;
  /** What went wrong, for people. */
  readonly message: string;
  /** Whether replaying may succeed without a code change. */
  readonly retriable: boolean;
  /** How many times it was tried. */
  readonly attempts: number;
  /** When it first failed. */
  readonly firstFailedAt: number;
  /** When it was dead-lettered. */
  readonly deadLetteredAt: number;
  /** The raw record's position. */
  readonly source: SourcePosition;
  /** The event id, when the record could be decoded. */
  readonly eventId: null | string;
  /** The event type, when the record could be decoded. */
  readonly eventType: null | string;
  /** For beacon failures: the vendor whose beacon failed. */
  readonly vendor: null | string;
  /** The original record key. */
  readonly originalKey: null | Buffer;
  /** The original record bytes, exactly as read. */
  readonly originalValue: Buffer;
}

/** An ad event after decrypt, resolve, enrich and hash: campaign context, device class, hashed ids. Carries no raw device identifier. (Avro quartile.events.EnrichedAdEvent) */
export interface EnrichedAdEvent {
  /** The device-made event UUID. */
  readonly eventId: string;
  /** The playback event. */
  readonly eventType: EventType;
  /** The playback session. */
  readonly playbackSessionId: string;
  /** One play of one ad. */
  readonly adInstanceId: string;
  /** Device clock time of the event. */
  readonly occurredAt: number;
  /** Collector clock time of receipt. */
  readonly receivedAt: number;
  /** When the pipeline enriched it. */
  readonly processedAt: number;
  /** receivedAt minus occurredAt: device clock skew plus delivery delay. */
  readonly skewMs: number;
  /** Position within the creative, in ms. */
  readonly adPlayheadMs: null | number;
  /** VAST error code for error events. */
  readonly errorCode: null | number;
  /** Ads Metadata Registry entry (content hash). */
  readonly metadataId: string;
  /** VAST Ad@id, or the registry's fallback id. */
  readonly adId: string;
  /** Creative id (Creative@id or UniversalAdId). */
  readonly creativeId: string;
  /** Campaign id (quartile Extension or fallback). */
  readonly campaignId: string;
  /** Line item id, or empty. */
  readonly lineItemId: string;
  /** Advertiser id (Extension or Advertiser element), or empty. */
  readonly advertiserId: string;
  /** Position of the ad in its pod (1-based; 0 for a buffet ad). */
  readonly podSequence: number;
  /** VAST Pricing@model (CPM, CPC…), or empty. */
  readonly pricingModel: string;
  /** Price of this event in millionths of the currency unit (a CPM divided by 1000 for an impression). */
  readonly priceMicros: number;
  /** ISO 4217 currency of the price, or empty. */
  readonly currency: string;
  /** ctv, mobile, tablet, desktop, console or unknown, from the user agent. */
  readonly deviceClass: string;
  /** Operating system from the user agent, or empty. */
  readonly osName: string;
  /** Country from the trusted edge header, or empty. */
  readonly country: string;
  /** Player application, or empty. */
  readonly appName: string;
  /** Player application version, or empty. */
  readonly appVersion: string;
  /** Keyed HMAC of the profile id (the device id when there is none). */
  readonly profileHash: string;
  /** Keyed HMAC of the device id, or empty. */
  readonly deviceHash: string;
  /** Keyed HMAC of the IP truncated to /24 (IPv4) or /48 (IPv6), or empty. */
  readonly ipHash: string;
  /** Id of the HMAC key used, so hashes can be matched across rotations. */
  readonly hashKeyId: string;
  /** Per-vendor scoped profile hashes, so vendors cannot join each other's ids. */
  readonly vendorIds: Readonly<Record<string, string>>;
  /** Consent signals, copied from the raw event. */
  readonly consent: Consent;
  /** Live event context; null for VOD. */
  readonly live: null | LiveContext;
  /** The raw record this came from. */
  readonly source: SourcePosition;
}

/** An event the collector refused, with the reason, so that nothing sent vanishes. (Avro quartile.events.RejectedEvent) */
export interface RejectedEvent {
  /** Stable reason code, e.g. EVENT_MISSING_FIELD. */
  readonly code: string;
  /** What was wrong, for people. */
  readonly message: string;
  /** Position of the event in its request's events array. */
  readonly index: number;
  /** The collector's id for the request. */
  readonly requestId: string;
  /** When the collector refused it. */
  readonly rejectedAt: number;
  /** Id of the API key that sent it, when keys are configured. */
  readonly producer: null | string;
  /** The event as sent (JSON), with raw device identifiers replaced by "[redacted]". */
  readonly raw: Buffer;
}
