/**
 * Priority-aware load shedding for the Ads Manager. Under overload, measured by
 * event-loop lag and by decisions in flight, the least valuable work goes first:
 *
 * | priority | refused when lag ≥ | or in flight ≥ |
 * |---|---|---|
 * | prefetch (a live break's pods, ahead of time) | ads.shedPrefetchLagMs | 50% of ads.maxInFlight |
 * | vod (a decision fetched from the ad sources) | ads.shedVodLagMs | 80% of ads.maxInFlight |
 * | live (a herd decision from a prefetched pod) | ads.shedLiveLagMs | ads.maxInFlight |
 *
 * So live-break decisions outrank VOD, and everything outranks prefetch. A refused
 * decision is answered 503 with a jittered Retry-After; a refused prefetch waits.
 */

/** What a piece of work is worth. */
export type Priority = 'live' | 'vod' | 'prefetch';

/** Thresholds, from config. */
export interface ShedThresholds {
  readonly maxInFlight: number;
  readonly shedPrefetchLagMs: number;
  readonly shedVodLagMs: number;
  readonly shedLiveLagMs: number;
}

const SHARE: Readonly<Record<Priority, number>> = { prefetch: 0.5, vod: 0.8, live: 1 };

export class Shedder {
  readonly #thresholds: ShedThresholds;
  readonly #lagMs: () => number;
  #inFlight = 0;

  /** `lagMs` reads the current event-loop lag (worst over the last second). */
  constructor(thresholds: ShedThresholds, lagMs: () => number) {
    this.#thresholds = thresholds;
    this.#lagMs = lagMs;
  }

  /** Work in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #lagLimit(priority: Priority): number {
    const t = this.#thresholds;
    return priority === 'live' ? t.shedLiveLagMs : priority === 'vod' ? t.shedVodLagMs : t.shedPrefetchLagMs;
  }

  /** Whether work of `priority` would be admitted now. */
  admits(priority: Priority): boolean {
    return this.#inFlight < this.#thresholds.maxInFlight * SHARE[priority] && this.#lagMs() < this.#lagLimit(priority);
  }

  /** Admits one piece of work (call `release` when it ends), or refuses it. */
  tryAcquire(priority: Priority): boolean {
    if (!this.admits(priority)) return false;
    this.#inFlight++;
    return true;
  }

  /** Counts work that must run whatever the load (a prefetch out of time to wait). */
  force(): void {
    this.#inFlight++;
  }

  release(): void {
    this.#inFlight--;
  }
}
