/**
 * The Ads Metadata Registry: content-addressed ad metadata in the state seam, with an
 * in-process LRU in front. `put` is idempotent (same content, same id, one entry) and
 * refreshes the TTL, which covers late events (default 7 days). Reads come from the
 * LRU for the hot ads of a live break, with jittered expiry so the entries of one
 * pod do not all expire at once.
 */
import type { StateStore } from '../../state/state-store.ts';
import { LruCache } from '../../core/lru-cache.ts';
import { metadataIdOf, type AdMetadata } from './ad-metadata.ts';

/** Options for the registry. */
export interface MetadataRegistryOptions {
  /** Lifetime of an entry in the store after its last put. Default 7 days. */
  readonly ttlMs?: number;
  /** Entries kept in the in-process cache. Default 50,000. */
  readonly cacheEntries?: number;
  /** Lifetime in the in-process cache. Default 10 minutes. */
  readonly cacheTtlMs?: number;
}

const PREFIX = 'reg:';

export class MetadataRegistry {
  readonly #state: StateStore;
  readonly #ttlMs: number;
  readonly #cache: LruCache<string, AdMetadata>;
  /** Ids put recently by this process: a repeated put skips the store round trip. */
  readonly #recentPuts: LruCache<string, true>;

  constructor(state: StateStore, options: MetadataRegistryOptions = {}) {
    this.#state = state;
    this.#ttlMs = options.ttlMs ?? 7 * 24 * 3600 * 1000;
    this.#cache = new LruCache({ maxEntries: options.cacheEntries ?? 50_000, ttlMs: options.cacheTtlMs ?? 10 * 60_000, jitter: 0.2 });
    this.#recentPuts = new LruCache({ maxEntries: 50_000, ttlMs: Math.min(this.#ttlMs / 10, 3600_000), jitter: 0.2 });
  }

  /** Stores an entry (idempotent) and returns its id. */
  async put(metadata: AdMetadata): Promise<string> {
    const mid = metadataIdOf(metadata);
    if (this.#recentPuts.get(mid) === undefined) {
      await this.#state.set(`${PREFIX}${mid}`, JSON.stringify(metadata), this.#ttlMs);
      this.#recentPuts.set(mid, true);
    }
    this.#cache.set(mid, metadata);
    return mid;
  }

  /** The entry with this id, or null when it is unknown or expired. */
  async get(mid: string): Promise<AdMetadata | null> {
    const cached = this.#cache.get(mid);
    if (cached !== undefined) return cached;
    const text = await this.#state.get(`${PREFIX}${mid}`);
    if (text === null) return null;
    const metadata = JSON.parse(text) as AdMetadata;
    this.#cache.set(mid, metadata);
    return metadata;
  }

  /** Cache statistics, for metrics. */
  cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.#cache.hits, misses: this.#cache.misses, size: this.#cache.size };
  }
}
