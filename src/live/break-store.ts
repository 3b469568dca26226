/**
 * Break records in the state seam, with an in-process cache in front so that a herd
 * of decisions for one break costs no state round trip for the plan: a ready plan is
 * kept a few seconds (expiry jittered, so the instances of a fleet do not reload in
 * step); "unknown" and "pending" a quarter of a second, which rides out a 404 storm
 * while a newly ready plan is still picked up at once.
 */
import { LruCache } from '../core/lru-cache.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { breakKey, type BreakRecord } from './break-plan.ts';

const READY_CACHE_MS = 5_000;
const MISS_CACHE_MS = 250;

/** Options of the store. */
export interface BreakStoreOptions {
  readonly retainAfterBreakMs: number;
  readonly now?: () => number;
}

export class BreakStore {
  readonly #state: StateStore;
  readonly #metrics: Metrics;
  readonly #options: BreakStoreOptions;
  readonly #ready = new LruCache<string, BreakRecord>({ maxEntries: 1_000, ttlMs: READY_CACHE_MS, jitter: 0.2 });
  readonly #notReady = new LruCache<string, BreakRecord | null>({ maxEntries: 10_000, ttlMs: MISS_CACHE_MS });

  constructor(state: StateStore, metrics: Metrics, options: BreakStoreOptions) {
    this.#state = state;
    this.#metrics = metrics;
    this.#options = options;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #ttlMs(record: BreakRecord): number {
    return Math.max(60_000, record.startsAt + record.durationMs + this.#options.retainAfterBreakMs - this.#now());
  }

  /** The break's record (cached), or null when no cue for it is known. */
  async get(breakId: string): Promise<BreakRecord | null> {
    const ready = this.#ready.get(breakId);
    if (ready !== undefined) {
      this.#metrics.adsCache.inc({ cache: 'break-plan', result: 'hit' });
      return ready;
    }
    const notReady = this.#notReady.get(breakId);
    if (notReady !== undefined) {
      this.#metrics.adsCache.inc({ cache: 'break-plan', result: 'hit' });
      return notReady;
    }
    this.#metrics.adsCache.inc({ cache: 'break-plan', result: 'miss' });
    return this.#remember(breakId, await this.#load(breakId));
  }

  /** The record in the state store, bypassing the cache. */
  async #load(breakId: string): Promise<BreakRecord | null> {
    const text = await this.#state.get(breakKey(breakId));
    return text === null ? null : (JSON.parse(text) as BreakRecord);
  }

  #remember(breakId: string, record: BreakRecord | null): BreakRecord | null {
    if (record?.status === 'ready') {
      this.#ready.set(breakId, record);
      this.#notReady.delete(breakId);
    } else {
      this.#notReady.set(breakId, record);
    }
    return record;
  }

  /**
   * Records a cued break as pending unless a record exists. Returns null when this
   * call created it, else the record already there (ready, pending, or another
   * event's).
   */
  async createPending(record: BreakRecord): Promise<BreakRecord | null> {
    const existing = await this.#state.setIfAbsent(breakKey(record.breakId), JSON.stringify(record), this.#ttlMs(record));
    if (existing === null) {
      this.#remember(record.breakId, record);
      return null;
    }
    return this.#remember(record.breakId, JSON.parse(existing) as BreakRecord);
  }

  /** Stores a ready plan. */
  async putReady(record: BreakRecord): Promise<void> {
    await this.#state.set(breakKey(record.breakId), JSON.stringify(record), this.#ttlMs(record));
    this.#remember(record.breakId, record);
  }

  /** Forgets a pending record (its cue could not be published). */
  async deletePending(breakId: string): Promise<void> {
    await this.#state.delete([breakKey(breakId)]);
    this.#notReady.delete(breakId);
  }
}
