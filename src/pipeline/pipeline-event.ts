/**
 * One event on its way through the pipeline. Each processor fills in its part; the
 * object is mutable on purpose (one allocation per event at tens of thousands of
 * events a second), but every field is written by exactly one processor.
 */
import type { AdEvent, AdSession, EnrichedAdEvent } from '../../schemas/types.ts';
import type { TokenClaims } from '../ads/tokens/claims.ts';
import type { AdMetadata } from '../ads/registry/ad-metadata.ts';
import type { ConsumedRecord } from '../transport/transport.ts';

/** Raw device data kept in memory only, for the pixels sink's server-side headers. Never serialized. */
export interface InFlightDevice {
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The IFA as the device reported it, blanked already when limit-ad-tracking is on. */
  readonly ifa: string | null;
  readonly ifaType: string | null;
}

/** Where the event came from, and the position dedupe compares against. */
export interface EventSource {
  readonly record: ConsumedRecord;
  /**
   * The position of the event's FIRST appearance: its own, or for a record re-injected
   * by `quartile dlq replay`, the position it was originally read at. Dedupe treats a
   * sighting at this position as a replay, not a duplicate.
   */
  readonly originTopic: string;
  readonly originPartition: number;
  readonly originOffset: string;
}

/** Where an event can be sent (see processors/route for the table). */
export type RouteTarget = 'enriched' | 'warehouse' | 'billing' | 'pixels';

const NO_ROUTES: ReadonlySet<RouteTarget> = new Set();

export class PipelineEvent {
  readonly source: EventSource;
  /** decode: the raw AdEvent. */
  raw: AdEvent | undefined;
  /** decrypt: the token's claims. */
  claims: TokenClaims | undefined;
  /** resolve: the registry entry and its id. */
  metadata: AdMetadata | undefined;
  metadataId: string | undefined;
  /** enrich + hash: the event as it leaves the pipeline. */
  enriched: EnrichedAdEvent | undefined;
  /** hash: raw device data for beacons, in memory only. */
  inFlight: InFlightDevice | undefined;
  /** hash: the viewer's frequency-cap key (keyed hash of profile, else device), in memory only. */
  capProfileKey: string | null = null;
  /** route: the sink targets this event goes to. */
  routes: ReadonlySet<RouteTarget> = NO_ROUTES;

  constructor(source: EventSource) {
    this.source = source;
  }
}

/** What the pipeline hands to sinks: an enriched event, or a closed ad session. */
export type PipelineOutput =
  | { readonly kind: 'event'; readonly event: PipelineEvent }
  | { readonly kind: 'session'; readonly session: AdSession; readonly partition: number };
