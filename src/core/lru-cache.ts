/**
 * A small LRU cache with per-entry expiry. Expiry can be jittered so that entries
 * loaded together (a live break's pod, fetched by every pipeline worker at once) do
 * not all expire together and stampede the store behind the cache.
 */
export interface LruCacheOptions {
  readonly maxEntries: number;
  /** Entry lifetime; 0 = no expiry. */
  readonly ttlMs: number;
  /** Fraction of ttl to spread expiry over, e.g. 0.2 = ±10%. */
  readonly jitter?: number;
  readonly now?: () => number;
}

export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #options: LruCacheOptions;
  readonly #now: () => number;
  /** The key last inserted or moved to the end of `#entries` (the most recently used). */
  #newest: K | undefined;
  hits = 0;
  misses = 0;

  constructor(options: LruCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    // An entry that never expires needs no clock read (the pipeline's caches get
    // several times per event).
    if (entry === undefined || (entry.expiresAt !== Number.POSITIVE_INFINITY && entry.expiresAt <= this.#now())) {
      if (entry !== undefined) this.#entries.delete(key);
      this.misses++;
      return undefined;
    }
    // Re-insert: Map order is recency order. The most recent entry is already last;
    // consecutive gets of one key (the events of one ad play) skip the Map churn.
    if (key !== this.#newest) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    this.hits++;
    return entry.value;
  }

  set(key: K, value: V): void {
    const { ttlMs, jitter = 0, maxEntries } = this.#options;
    const spread = ttlMs * jitter * (Math.random() - 0.5);
    const expiresAt = ttlMs <= 0 ? Number.POSITIVE_INFINITY : this.#now() + ttlMs + spread;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    this.#newest = key;
    if (this.#entries.size > maxEntries) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.#entries.delete(key);
    if (key === this.#newest) this.#newest = undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
    this.#newest = undefined;
  }
}
