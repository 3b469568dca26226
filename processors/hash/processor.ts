/**
 * hash: keyed HMAC-SHA256 of the identifiers (profile, else device; device; the IP
 * truncated to /24 or /48), with the key id recorded, plus per-vendor variants of the
 * profile hash so that vendors cannot join each other's ids. Raw identifiers leave the
 * event here: only the in-memory `inFlight` data keeps the IP and user agent, for the
 * pixels sink's server-side headers, and nothing stores it.
 */
import { createHmac } from 'node:crypto';
import { EMIT, type Processor, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import type { AdEvent, Device, EnrichedAdEvent } from '../../schemas/types.ts';
import type { HashKey } from './hash-keys.ts';
import { truncateIp } from './truncate-ip.ts';
import { LruCache } from '../../src/core/lru-cache.ts';
import { profileKeyOf } from '../../src/ads/caps/profile-key.ts';

const NO_DEVICE: Device = { ip: null, userAgent: null, ifa: null, ifaType: null, deviceId: null, profileId: null };

/** The event's own records, written in place (see PipelineEvent: one owner per field). */
type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The hashed identifiers of one viewer on one ad (shared by all its events). */
interface Hashes {
  readonly profileHash: string;
  readonly deviceHash: string;
  readonly ipHash: string;
  readonly vendorIds: Readonly<Record<string, string>>;
  /** The frequency-cap viewer key; computed on the viewer's first impression, then kept. */
  capProfileKey: string | null | undefined;
}

export class HashProcessor implements Processor {
  readonly name = 'hash' as const;
  readonly #key: HashKey;
  /**
   * An HMAC costs ~3 µs and an event needs five or more; every event of one ad play
   * (six or so) hashes the same ids, so the results are cached per viewer and ad.
   * The cache lives in process memory only, like the raw ids it is keyed by.
   */
  readonly #cache = new LruCache<string, Hashes>({ maxEntries: 50_000, ttlMs: 10 * 60_000 });
  /** An ad's vendor list as a cache-key part, joined once per registry entry rather than per event. */
  readonly #vendorKeys = new WeakMap<readonly string[], string>();

  readonly #capKey: Buffer | undefined;

  /** `capKey` also derives the frequency-cap viewer key, which needs the raw ids present only here. */
  constructor(key: HashKey, capKey?: Buffer) {
    this.#key = key;
    this.#capKey = capKey;
  }

  #hmac(purpose: string, value: string): string {
    return createHmac('sha256', this.#key.secret).update(`${purpose}\u0000${value}`).digest().subarray(0, 16).toString('base64url');
  }

  #vendorKey(vendors: readonly string[]): string {
    let key = this.#vendorKeys.get(vendors);
    if (key === undefined) {
      key = vendors.join(',');
      this.#vendorKeys.set(vendors, key);
    }
    return key;
  }

  #hashes(device: Device, vendors: readonly string[]): Hashes {
    const cacheKey = `${device.profileId ?? ''}\u0000${device.deviceId ?? ''}\u0000${device.ip ?? ''}\u0000${this.#vendorKey(vendors)}`;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const viewer = device.profileId ?? device.deviceId;
    const network = truncateIp(device.ip);
    const vendorIds: Record<string, string> = {};
    if (viewer !== null) for (const vendor of vendors) vendorIds[vendor] = this.#hmac(`vendor:${vendor}`, viewer);
    const deviceHash = device.deviceId === null ? '' : this.#hmac('device', device.deviceId);
    const hashes: Hashes = {
      // Without a profile the viewer is the device: same purpose, same id, so the same
      // HMAC as deviceHash, which is not computed twice.
      profileHash: viewer === null ? '' : device.profileId !== null ? this.#hmac('profile', viewer) : deviceHash,
      deviceHash,
      ipHash: network === null ? '' : this.#hmac('ip', network),
      vendorIds,
      capProfileKey: undefined,
    };
    this.#cache.set(cacheKey, hashes);
    return hashes;
  }

  process(event: PipelineEvent): StepResult {
    const raw = event.raw!;
    const device = raw.device;
    const hashes = this.#hashes(device, event.metadata!.vendors);
    // Written in place: this step owns these fields of the record enrich built, and a
    // copy of the whole record per event was a measurable share of the pipeline's GC.
    const enriched = event.enriched as Writable<EnrichedAdEvent>;
    enriched.profileHash = hashes.profileHash;
    enriched.deviceHash = hashes.deviceHash;
    enriched.ipHash = hashes.ipHash;
    enriched.vendorIds = hashes.vendorIds;
    enriched.hashKeyId = this.#key.kid;
    if (this.#capKey !== undefined && enriched.eventType === 'impression') {
      hashes.capProfileKey ??= profileKeyOf(this.#capKey, device.profileId, device.deviceId);
      event.capProfileKey = hashes.capProfileKey;
    }
    event.inFlight = {
      ip: device.ip,
      userAgent: device.userAgent,
      // Limit-ad-tracking blanks the IFA for every beacon.
      ifa: raw.consent.limitAdTracking ? null : device.ifa,
      ifaType: raw.consent.limitAdTracking ? null : device.ifaType,
    };
    // The raw ids leave the event here (the decoded record is this event's own).
    (raw as Writable<AdEvent>).device = NO_DEVICE;
    return EMIT;
  }
}
