/**
 * Ad sources: VAST tag URL templates from config (`ads.sources`), in priority order.
 *
 *   { "id": "gam", "url": "https://pubads.example/ads?iu=/1/live&sz=640x480&ip=[DEVICEIP]&gdpr_consent=[GDPRCONSENT]&cb=[CACHEBUSTING]" }
 *
 * The template takes IAB macros and Quartile's own (see decision-macros.ts); each is
 * percent-encoded when filled in.
 */

/** One ad source as written in config. */
export interface AdSourceConfig {
  /** A short name for logs and metrics. */
  readonly id: string;
  /** The VAST tag URL template. */
  readonly url: string;
  /** Overrides `ads.sourceTimeoutMs` for this source. */
  readonly timeoutMs?: number;
}

/** Validates `ads.sources`; returns what is wrong, or undefined. Used by the config spec. */
export function checkAdSources(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'a list of {id, url, timeoutMs?}';
  const ids = new Set<string>();
  for (const [i, raw] of value.entries()) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return `sources[${i}] must be an object {id, url}`;
    const source = raw as Partial<AdSourceConfig>;
    const unknown = Object.keys(source).find((k) => !['id', 'url', 'timeoutMs'].includes(k));
    if (unknown !== undefined) return `sources[${i}] has an unknown key "${unknown}" (known: id, url, timeoutMs)`;
    if (typeof source.id !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(source.id)) return `sources[${i}].id must be 1–64 letters, digits, _ . or -`;
    if (ids.has(source.id)) return `sources[${i}].id "${source.id}" appears twice`;
    ids.add(source.id);
    if (typeof source.url !== 'string' || !/^https?:\/\//i.test(source.url)) return `sources[${i}].url must be an http(s) VAST tag URL template`;
    if (source.timeoutMs !== undefined && (!Number.isInteger(source.timeoutMs) || source.timeoutMs < 50 || source.timeoutMs > 60_000)) {
      return `sources[${i}].timeoutMs must be an integer from 50 to 60000`;
    }
  }
  return undefined;
}
