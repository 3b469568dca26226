/**
 * The embedded state store: an in-process map with TTLs, for one process on one
 * machine. Expired entries are invisible at once and swept in the background; when
 * the store holds more than `maxEntries`, the entries first written longest ago are
 * evicted first, down to 95% of it (as Redis does under `allkeys-lru` memory pressure,
 * approximately).
 */
import { QuartileError } from '../core/errors.ts';
import type { CounterIncrement, IncrementOnceResult, KeyValue, ScoredMember, StateStore } from './state-store.ts';

type Value = string | Map<string, number>;

interface Entry {
  value: Value;
  /** Epoch ms, or Infinity for no expiry. */
  expiresAt: number;
}

/** Options for the embedded store. */
export interface MemoryStateOptions {
  readonly maxEntries?: number;
  /** Sweep interval for expired entries. */
  readonly sweepIntervalMs?: number;
  /** Clock, for tests with fake time. */
  readonly now?: () => number;
}

/** The share of `maxEntries` a full store is brought down to (see #evict). */
export const LOW_WATER = 0.95;

function expiry(now: number, ttlMs: number | undefined): number {
  return ttlMs === undefined || ttlMs <= 0 ? Number.POSITIVE_INFINITY : now + ttlMs;
}

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: MemoryStateOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 5_000_000;
    this.#now = options.now ?? Date.now;
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 10_000);
    this.#sweeper.unref();
  }

  /** The entry of `key` unless it expired by `now` (batch calls read the clock once). */
  #live(key: string, now: number = this.#now()): Entry | undefined {
    this.#assertOpen();
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, value: Value, expiresAt: number): void {
    // Rewritten in place: one lookup, where moving the key to the end (so that Map order
    // tracked the last write rather than the first) took two more on a map that holds,
    // for beacon delivery, an entry per beacon of the last days.
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#insert(key, value, expiresAt);
    else {
      entry.value = value;
      entry.expiresAt = expiresAt;
    }
  }

  /** {@link #write} for a key known to be absent: no lookup first. */
  #insert(key: string, value: Value, expiresAt: number): void {
    this.#entries.set(key, { value, expiresAt });
    if (this.#entries.size > this.#maxEntries) this.#evict();
  }

  #string(key: string, now?: number): string | null {
    const entry = this.#live(key, now);
    if (entry === undefined) return null;
    if (typeof entry.value !== 'string') throw new Error(`State key ${key} holds a sorted set, not a string`);
    return entry.value;
  }

  async get(key: string): Promise<string | null> {
    return this.#string(key);
  }

  async getMany(keys: readonly string[]): Promise<Array<string | null>> {
    const now = this.#now();
    return keys.map((k) => this.#string(k, now));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#assertOpen();
    this.#write(key, value, expiry(this.#now(), ttlMs));
  }

  async setMany(entries: readonly KeyValue[], ttlMs?: number): Promise<void> {
    this.#assertOpen();
    const expiresAt = expiry(this.#now(), ttlMs);
    for (const { key, value } of entries) this.#write(key, value, expiresAt);
  }

  #setIfAbsent(key: string, value: string, now: number, expiresAt: number): string | null {
    const existing = this.#string(key, now);
    if (existing !== null) return existing;
    this.#insert(key, value, expiresAt); // #live removed it if it had expired
    return null;
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string | null> {
    const now = this.#now();
    return this.#setIfAbsent(key, value, now, expiry(now, ttlMs));
  }

  async setIfAbsentMany(entries: readonly KeyValue[], ttlMs?: number): Promise<Array<string | null>> {
    const now = this.#now();
    const expiresAt = expiry(now, ttlMs);
    return entries.map(({ key, value }) => this.#setIfAbsent(key, value, now, expiresAt));
  }

  async delete(keys: readonly string[]): Promise<number> {
    this.#assertOpen();
    const now = this.#now();
    let count = 0;
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      this.#entries.delete(key);
      if (entry.expiresAt > now) count++; // an expired one was already invisible
    }
    return count;
  }

  #incr(key: string, by: number, ttlMs: number | undefined): number {
    const entry = this.#live(key);
    const current = entry === undefined ? 0 : Number(entry.value);
    if (!Number.isInteger(current)) throw new Error(`State key ${key} does not hold an integer`);
    const next = current + by;
    const expiresAt = ttlMs !== undefined && ttlMs > 0 ? this.#now() + ttlMs : (entry?.expiresAt ?? Number.POSITIVE_INFINITY);
    this.#write(key, String(next), expiresAt);
    return next;
  }

  async incrBy(key: string, by: number, ttlMs?: number): Promise<number> {
    return this.#incr(key, by, ttlMs);
  }

  async incrementOnce(guardKey: string, guardTtlMs: number, increments: readonly CounterIncrement[]): Promise<IncrementOnceResult> {
    // Single-threaded: no await between check and write, so this is atomic.
    if (this.#live(guardKey) !== undefined) {
      return { applied: false, values: increments.map((i) => Number(this.#string(i.key) ?? '0')) };
    }
    this.#write(guardKey, '1', expiry(this.#now(), guardTtlMs));
    return { applied: true, values: increments.map((i) => this.#incr(i.key, i.by, i.ttlMs)) };
  }

  #sorted(key: string, create: boolean): Map<string, number> | undefined {
    const entry = this.#live(key);
    if (entry === undefined) {
      if (!create) return undefined;
      const set = new Map<string, number>();
      this.#write(key, set, Number.POSITIVE_INFINITY);
      return set;
    }
    if (typeof entry.value === 'string') throw new Error(`State key ${key} holds a string, not a sorted set`);
    return entry.value;
  }

  async sortedAdd(key: string, members: readonly ScoredMember[], ttlMs?: number): Promise<void> {
    const set = this.#sorted(key, true)!;
    for (const m of members) set.set(m.member, m.score);
    if (ttlMs !== undefined && ttlMs > 0) this.#entries.get(key)!.expiresAt = this.#now() + ttlMs;
  }

  async sortedRange(key: string, min: number, max: number, limit?: number): Promise<ScoredMember[]> {
    const set = this.#sorted(key, false);
    if (set === undefined) return [];
    const out: ScoredMember[] = [];
    for (const [member, score] of set) if (score >= min && score <= max) out.push({ member, score });
    // Ties sort by member, as Redis orders equal scores lexicographically.
    out.sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    return limit === undefined ? out : out.slice(0, limit);
  }

  async sortedRemove(key: string, members: readonly string[]): Promise<number> {
    const set = this.#sorted(key, false);
    if (set === undefined) return 0;
    let count = 0;
    for (const m of members) if (set.delete(m)) count++;
    if (set.size === 0) this.#entries.delete(key);
    return count;
  }

  async ttl(key: string): Promise<number | null> {
    const entry = this.#live(key);
    if (entry === undefined) return null;
    return entry.expiresAt === Number.POSITIVE_INFINITY ? -1 : entry.expiresAt - this.#now();
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }

  /** Number of live and not-yet-swept entries (for metrics). */
  get size(): number {
    return this.#entries.size;
  }

  #assertOpen(): void {
    if (this.#closed) throw new QuartileError('STATE_CLOSED');
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  /**
   * Makes room once the store is full: expired entries go first, then the entries first
   * written longest ago, down to {@link LOW_WATER} of `maxEntries`. Evicting only the
   * excess made every insert into a full store sweep the whole map (3 ms an insert at
   * 200,000 entries; a full store of 5 million took beacon delivery's ledger writes to a
   * crawl); now eviction runs once per twentieth of the store's inserts.
   */
  #evict(): void {
    this.#sweep();
    if (this.#entries.size <= this.#maxEntries) return;
    const excess = this.#entries.size - Math.floor(this.#maxEntries * LOW_WATER);
    let removed = 0;
    for (const key of this.#entries.keys()) {
      if (removed >= excess) break;
      this.#entries.delete(key);
      removed++;
    }
  }
}
