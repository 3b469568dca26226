/**
 * The state seam: a key-value store with TTLs, counters and sorted sets. Redis in
 * production; an in-process store on one machine. Dedupe, frequency caps, sessions,
 * the Ads Metadata Registry and the beacon ledger all live behind it.
 *
 * Values are strings. TTLs are milliseconds; a TTL of 0 or undefined means "no expiry".
 */

/** A counter to bump in {@link StateStore.incrementOnce}. */
export interface CounterIncrement {
  readonly key: string;
  readonly by: number;
  /** Expiry set on the counter after the increment (0 = none). */
  readonly ttlMs: number;
}

/** The outcome of {@link StateStore.incrementOnce}. */
export interface IncrementOnceResult {
  /** True when this call did the increments; false when the guard was already there. */
  readonly applied: boolean;
  /** The counters' values after the call, in the order given. */
  readonly values: readonly number[];
}

/** A key and its value, for {@link StateStore.setMany}. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** A member of a sorted set. */
export interface ScoredMember {
  readonly member: string;
  readonly score: number;
}

/** The state seam. */
export interface StateStore {
  readonly kind: 'redis' | 'memory';
  /** The value of a key, or null. */
  get(key: string): Promise<string | null>;
  /** Values of many keys in one round trip. */
  getMany(keys: readonly string[]): Promise<Array<string | null>>;
  /** Sets a key, replacing any value. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets many keys at once (one round trip), each replacing any value, all with one TTL. */
  setMany(entries: readonly KeyValue[], ttlMs?: number): Promise<void>;
  /**
   * Sets a key only if it is absent. Returns null when this call set it, or the value
   * already there. Atomic: of concurrent callers exactly one gets null.
   */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string | null>;
  /**
   * {@link setIfAbsent} for many keys, each with its own value, all with one TTL, in one
   * round trip. Each key is claimed atomically on its own (not all or none); the answer
   * is per key, in order: null when this call set it, else the value already there.
   */
  setIfAbsentMany(entries: readonly KeyValue[], ttlMs?: number): Promise<Array<string | null>>;
  /** Deletes keys; returns how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /** Adds `by` to an integer counter (created at 0) and returns the new value. */
  incrBy(key: string, by: number, ttlMs?: number): Promise<number>;
  /**
   * Atomically: if `guardKey` is absent, set it (with `guardTtlMs`) and apply every
   * increment; otherwise change nothing. This makes counting idempotent per event
   * (the guard is the event's ledger entry). On Redis Cluster, give the keys one hash tag.
   */
  incrementOnce(guardKey: string, guardTtlMs: number, increments: readonly CounterIncrement[]): Promise<IncrementOnceResult>;
  /** Adds or updates members of a sorted set. */
  sortedAdd(key: string, members: readonly ScoredMember[], ttlMs?: number): Promise<void>;
  /** Members with min <= score <= max, lowest score first, at most `limit`. */
  sortedRange(key: string, min: number, max: number, limit?: number): Promise<ScoredMember[]>;
  /** Removes members from a sorted set; returns how many were there. */
  sortedRemove(key: string, members: readonly string[]): Promise<number>;
  /** Remaining time to live of a key in ms; null when absent, -1 when it never expires. */
  ttl(key: string): Promise<number | null>;
  /** Throws STATE_UNAVAILABLE when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
