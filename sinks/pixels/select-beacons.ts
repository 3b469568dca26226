/**
 * Which beacons one event fires: the registry's URIs for its event type.
 *
 * | event type | URIs |
 * |---|---|
 * | impression | impressionUris, plus each verification's `verificationNotExecuted` with [REASON] 2 (no OM SDK runs server-side) |
 * | click | clickTrackingUris |
 * | error | errorUris ([ERRORCODE]) |
 * | viewableImpression, notViewable, viewUndetermined | the matching `<ViewableImpression>` list |
 * | progress | tracking.progress entries whose offset the event's playhead reached |
 * | anything else (start, quartiles, complete, pause, skip…) | tracking[event type] |
 *
 * plus verification tracking named after the event type. Each URI gets a stable hash
 * (`uriHash`) of its list, its template and its occurrence in the list: the registry
 * keeps a URI that a wrapper and its inline both carry twice on purpose (each party
 * counts its own), so the two are two beacons.
 *
 * A progress offset fires once per ad play, not once per progress event: its ledger
 * scope is the ad instance.
 */
import { createHash } from 'node:crypto';
import type { EnrichedAdEvent } from '../../schemas/types.ts';
import type { AdMetadata } from '../../src/ads/registry/ad-metadata.ts';
import { parseOffset } from '../../src/ads/vast/time.ts';
import { LruCache } from '../../src/core/lru-cache.ts';
import type { MacroValues } from '../../src/ads/vast/macros.ts';

/** One beacon to fire, before macro expansion. */
export interface BeaconTemplate {
  /** The URI as the registry holds it, macros unexpanded. */
  readonly template: string;
  /** Lower-case host of the URI (no port); null when the URI is not absolute http(s). */
  readonly host: string | null;
  /** Stable hash of list, template and occurrence (beacon_deliveries.uri_hash). */
  readonly uriHash: string;
  /** Whose ledger entry guards it: the event's, or (progress offsets) the ad play's. */
  readonly scope: 'event' | 'adInstance';
  /** Macro values this beacon adds to the event's ([REASON] of verificationNotExecuted). */
  readonly macros?: MacroValues;
}

interface Candidate {
  readonly list: string;
  readonly uri: string;
  readonly macros?: MacroValues;
}

const HOST = /^https?:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)/i;

const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/i;

/** Lower-case host of an absolute http(s) URI template; null otherwise. */
export function hostOf(uri: string): string | null {
  const host = HOST.exec(uri.trim())?.[1];
  if (host === undefined) return null;
  // A bracketed host is an IPv6 literal, or an unexpanded macro ([DOMAIN]) that names no one.
  if (host.startsWith('[') && !IPV6_LITERAL.test(host)) return null;
  return host.toLowerCase();
}

const SPECIAL = new Set(['impression', 'click', 'error', 'progress', 'viewableImpression', 'notViewable', 'viewUndetermined', 'heartbeat', 'adBreakStart', 'adBreakEnd']);
const REASON_NOT_SUPPORTED: MacroValues = { REASON: 2 };

/**
 * Adds one list's URIs to `out`. A module function, not a closure in #candidates: the
 * engine runs under tsx, whose esbuild settings keep names, so every named closure
 * costs an Object.defineProperty each time it is created (~0.4 µs, against ~2 ns).
 */
function addCandidates(out: Candidate[], list: string, uris: readonly string[], macros?: MacroValues): void {
  for (const uri of uris) out.push(macros === undefined ? { list, uri } : { list, uri, macros });
}

/** Beacons of `metadata` for one event (cached per ad and event type; progress filtered per event). */
export class BeaconSelector {
  readonly #verificationNotExecuted: boolean;
  readonly #cache = new LruCache<string, readonly BeaconTemplate[]>({ maxEntries: 50_000, ttlMs: 10 * 60_000 });
  readonly #progress = new LruCache<string, ReadonlyArray<{ readonly beacon: BeaconTemplate; readonly offset: { kind: 'time'; ms: number } | { kind: 'percent'; percent: number } }>>({ maxEntries: 50_000, ttlMs: 10 * 60_000 });

  constructor(options: { readonly verificationNotExecuted: boolean }) {
    this.#verificationNotExecuted = options.verificationNotExecuted;
  }

  /** The beacons `event` fires. */
  select(event: EnrichedAdEvent, metadata: AdMetadata): readonly BeaconTemplate[] {
    if (event.eventType === 'progress') return this.#progressBeacons(event, metadata);
    const key = `${event.metadataId}|${event.eventType}`;
    let beacons = this.#cache.get(key);
    if (beacons === undefined) {
      beacons = templates(this.#candidates(event.eventType, metadata), 'event');
      this.#cache.set(key, beacons);
    }
    return beacons;
  }

  #candidates(eventType: string, m: AdMetadata): Candidate[] {
    const out: Candidate[] = [];
    switch (eventType) {
      case 'impression':
        addCandidates(out, 'impression', m.impressionUris);
        if (this.#verificationNotExecuted) {
          m.verifications.forEach((v, i) => addCandidates(out, `verification:${i}:verificationNotExecuted`, v.tracking['verificationNotExecuted'] ?? [], REASON_NOT_SUPPORTED));
        }
        break;
      case 'click':
        addCandidates(out, 'click', m.clickTrackingUris);
        break;
      case 'error':
        addCandidates(out, 'error', m.errorUris);
        break;
      case 'viewableImpression':
        addCandidates(out, 'viewable', m.viewable.viewable);
        break;
      case 'notViewable':
        addCandidates(out, 'notViewable', m.viewable.notViewable);
        break;
      case 'viewUndetermined':
        addCandidates(out, 'viewUndetermined', m.viewable.viewUndetermined);
        break;
      default:
        if (!SPECIAL.has(eventType)) {
          addCandidates(out, `tracking:${eventType}`, (m.tracking[eventType] ?? []).map((t) => t.uri));
        }
    }
    m.verifications.forEach((v, i) => addCandidates(out, `verification:${i}:${eventType}`, v.tracking[eventType] ?? []));
    return out;
  }

  #progressBeacons(event: EnrichedAdEvent, m: AdMetadata): readonly BeaconTemplate[] {
    const playhead = event.adPlayheadMs;
    if (playhead === null) return [];
    let entries = this.#progress.get(event.metadataId);
    if (entries === undefined) {
      const tracked = m.tracking['progress'] ?? [];
      const beacons = templates(tracked.map((t) => ({ list: `progress@${t.offset ?? ''}`, uri: t.uri })), 'adInstance');
      const parsed: Array<{ beacon: BeaconTemplate; offset: { kind: 'time'; ms: number } | { kind: 'percent'; percent: number } }> = [];
      tracked.forEach((t, i) => {
        const offset = parseOffset(t.offset ?? null);
        if (offset !== null) parsed.push({ beacon: beacons[i]!, offset });
      });
      entries = parsed;
      this.#progress.set(event.metadataId, entries);
    }
    const out: BeaconTemplate[] = [];
    for (const { beacon, offset } of entries) {
      const at = offset.kind === 'time' ? offset.ms : m.durationMs === null ? null : Math.round((offset.percent / 100) * m.durationMs);
      if (at !== null && playhead >= at) out.push(beacon);
    }
    return out;
  }
}

function templates(candidates: readonly Candidate[], scope: 'event' | 'adInstance'): BeaconTemplate[] {
  const seen = new Map<string, number>();
  return candidates.map((c) => {
    const key = `${c.list}\n${c.uri}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    const uriHash = createHash('sha256').update(`${key}\n${occurrence}`).digest('base64url').slice(0, 16);
    const beacon: BeaconTemplate = { template: c.uri, host: hostOf(c.uri), uriHash, scope };
    return c.macros === undefined ? beacon : { ...beacon, macros: c.macros };
  });
}
