/**
 * The pixels sink's configuration: the `pixels.*` keys of the config spec, and who a
 * beacon's vendor is. A vendor is named by the host of the beacon URI: a host matches
 * a `pixels.vendors` entry when it is the entry's domain or a subdomain of it
 * (`tps.doubleverify.com` → `doubleverify.com` → `dv`, GVL id 126). A host that
 * matches no entry is its own vendor, with no GVL id.
 */
import type { QuartileConfig } from '../../src/config/spec.ts';

/** One entry of `pixels.vendors`. */
export interface PixelVendorConfig {
  /** The vendor key in metrics, ledgers, beacon_deliveries and pause/resume. */
  readonly name: string;
  /** The vendor's id in the IAB Global Vendor List; null when it has none (or it is unknown). */
  readonly gvlId: number | null;
  /** Requests in flight to one of its domains; default pixels.concurrencyPerDomain. */
  readonly concurrency?: number;
  /** Requests per second to one of its domains; default pixels.tpsPerDomain. */
  readonly tps?: number;
}

/**
 * The vendors Quartile knows out of the box. GVL ids are from the IAB Europe Global
 * Vendor List: DoubleVerify Inc. 126, Integral Ad Science, Inc. 278. Nielsen's
 * server-side endpoints have no id here: look it up in the GVL your CMP uses and set
 * it, or Nielsen beacons are suppressed wherever GDPR applies.
 */
export const DEFAULT_PIXEL_VENDORS: Readonly<Record<string, PixelVendorConfig>> = Object.freeze({
  'doubleverify.com': { name: 'dv', gvlId: 126 },
  'adsafeprotected.com': { name: 'ias', gvlId: 278 },
  'imrworldwide.com': { name: 'nielsen', gvlId: null },
});

const VENDOR_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DOMAIN = /^[a-z0-9.-]+$/;

/** Checks a `pixels.vendors` value; returns what is wrong, or undefined. */
export function checkPixelVendors(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'an object of domain → {name, gvlId, concurrency?, tps?}';
  for (const [domain, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!DOMAIN.test(domain)) return `vendors key "${domain}" must be a lower-case host or domain`;
    const v = raw as Partial<PixelVendorConfig> | null;
    if (v === null || typeof v !== 'object') return `vendors["${domain}"] must be an object {name, gvlId}`;
    const known = new Set(['name', 'gvlId', 'concurrency', 'tps']);
    const unknown = Object.keys(v).find((k) => !known.has(k));
    if (unknown !== undefined) return `vendors["${domain}"] has an unknown key "${unknown}"`;
    if (typeof v.name !== 'string' || !VENDOR_NAME.test(v.name)) return `vendors["${domain}"].name must match ${VENDOR_NAME.source}`;
    if (v.gvlId !== null && (typeof v.gvlId !== 'number' || !Number.isInteger(v.gvlId) || v.gvlId < 1)) return `vendors["${domain}"].gvlId must be a positive integer or null`;
    if (v.concurrency !== undefined && (!Number.isInteger(v.concurrency) || v.concurrency < 1)) return `vendors["${domain}"].concurrency must be a positive integer`;
    if (v.tps !== undefined && (!Number.isInteger(v.tps) || v.tps < 1)) return `vendors["${domain}"].tps must be a positive integer`;
  }
  return undefined;
}

/** Checks a `pixels.purposes` value (TCF v2 purpose ids 1..11). */
export function checkPurposes(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return 'a non-empty list of TCF purpose ids, e.g. [7]';
  for (const p of value) if (!Number.isInteger(p) || (p as number) < 1 || (p as number) > 11) return `purpose ${String(p)} is not a TCF v2 purpose id (1..11)`;
  return undefined;
}

/** Who a beacon host belongs to. */
export interface VendorIdentity {
  /** Config name, or the host itself for a vendor Quartile does not know. */
  readonly name: string;
  readonly gvlId: number | null;
  /** True when a `pixels.vendors` entry matched. */
  readonly known: boolean;
  readonly concurrency: number;
  readonly tps: number;
}

/** Everything the sink reads from config, resolved once. */
export interface PixelsSinkConfig {
  readonly enabled: boolean;
  readonly deliver: boolean;
  readonly groupId: string;
  readonly vendors: Readonly<Record<string, PixelVendorConfig>>;
  readonly purposes: readonly number[];
  readonly allowVendorsWithoutGvlId: boolean;
  readonly ifa: 'hashed' | 'raw' | 'withheld';
  readonly allowPrivateNetwork: boolean;
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  readonly concurrencyPerDomain: number;
  readonly tpsPerDomain: number;
  readonly deadlineMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxDelayMs: number;
  readonly breakerFailures: number;
  readonly breakerCooldownMs: number;
  readonly maxPending: number;
  readonly maxBacklog: number;
  readonly outcomeFlushMs: number;
  readonly verificationNotExecuted: boolean;
  /** How long a beacon's ledger entry is kept: replays within it never fire twice. */
  readonly ledgerTtlMs: number;
}

/** The sink's config from Quartile's config. */
export function pixelsSinkConfig(config: QuartileConfig): PixelsSinkConfig {
  const p = config.pixels;
  return {
    enabled: p.enabled,
    deliver: p.deliver,
    groupId: p.groupId,
    vendors: p.vendors,
    purposes: p.purposes,
    allowVendorsWithoutGvlId: p.allowVendorsWithoutGvlId,
    ifa: p.ifa,
    allowPrivateNetwork: p.allowPrivateNetwork,
    userAgent: config.ads.serverUserAgent,
    timeoutMs: p.timeoutMs,
    maxRedirects: p.maxRedirects,
    concurrencyPerDomain: p.concurrencyPerDomain,
    tpsPerDomain: p.tpsPerDomain,
    deadlineMs: p.deadlineMs,
    retryBaseMs: p.retryBaseMs,
    retryMaxDelayMs: p.retryMaxDelayMs,
    breakerFailures: p.breakerFailures,
    breakerCooldownMs: p.breakerCooldownMs,
    maxPending: p.maxPending,
    maxBacklog: p.maxBacklog,
    outcomeFlushMs: p.outcomeFlushMs,
    verificationNotExecuted: p.verificationNotExecuted,
    // As long as dedupe remembers the event: a later re-read is a new event anyway.
    ledgerTtlMs: config.pipeline.dedupeTtlMs,
  };
}

/** Resolves hosts to vendors (cached: a handful of hosts serve every beacon). */
export class VendorDirectory {
  readonly #config: PixelsSinkConfig;
  readonly #cache = new Map<string, VendorIdentity>();

  constructor(config: PixelsSinkConfig) {
    this.#config = config;
  }

  /** The vendor of `host` (lower case, no port). */
  of(host: string): VendorIdentity {
    let identity = this.#cache.get(host);
    if (identity !== undefined) return identity;
    const c = this.#config;
    let entry: PixelVendorConfig | undefined;
    // Longest matching domain wins: `a.b.example` before `b.example`.
    for (let domain = host; ; ) {
      entry = Object.hasOwn(c.vendors, domain) ? c.vendors[domain] : undefined;
      if (entry !== undefined) break;
      const dot = domain.indexOf('.');
      if (dot === -1) break;
      domain = domain.slice(dot + 1);
    }
    identity = {
      name: entry?.name ?? host,
      gvlId: entry?.gvlId ?? null,
      known: entry !== undefined,
      concurrency: entry?.concurrency ?? c.concurrencyPerDomain,
      tps: entry?.tps ?? c.tpsPerDomain,
    };
    if (this.#cache.size < 10_000) this.#cache.set(host, identity);
    return identity;
  }
}
