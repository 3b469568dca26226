/**
 * What this Ads Manager process has seen of recent live breaks, for the Control
 * Room: when each break was cued, where its prefetch stands, and how many herd
 * decisions it served. In memory only, and bounded: the most recent breaks are kept.
 * The break plans themselves stay in the state seam (break-store.ts).
 */
import type { AdBreakCue } from '../../schemas/types.ts';
import type { BreakRecord } from './break-plan.ts';

/** Where a break's prefetch stands, as this process knows it. */
export type PrefetchState = 'cued' | 'prefetching' | 'ready';

/** One recent break. */
export interface BreakActivity {
  readonly liveEventId: string;
  readonly breakId: string;
  readonly startsAt: number;
  readonly durationMs: number;
  readonly state: PrefetchState;
  /** Cohorts prefetched, and how many of them got a pod with ads (0 until ready). */
  readonly cohorts: number;
  readonly filledCohorts: number;
  /** Herd decisions this process served from the plan. */
  readonly herdDecisions: number;
  /** Last change, ms since the epoch. */
  readonly updatedAt: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class LiveActivity {
  readonly #breaks = new Map<string, Mutable<BreakActivity>>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: { readonly capacity?: number; readonly now?: () => number } = {}) {
    this.#capacity = options.capacity ?? 20;
    this.#now = options.now ?? Date.now;
  }

  /** A cue arrived (POST or live.cues). */
  cued(cue: Pick<AdBreakCue, 'liveEventId' | 'breakId' | 'startsAt' | 'durationMs'>): void {
    if (this.#breaks.has(cue.breakId)) return;
    this.#put({ liveEventId: cue.liveEventId, breakId: cue.breakId, startsAt: cue.startsAt, durationMs: cue.durationMs, state: 'cued', cohorts: 0, filledCohorts: 0, herdDecisions: 0, updatedAt: this.#now() });
  }

  /** This process started prefetching the break. */
  prefetching(cue: Pick<AdBreakCue, 'liveEventId' | 'breakId' | 'startsAt' | 'durationMs'>): void {
    this.cued(cue);
    const entry = this.#breaks.get(cue.breakId)!;
    if (entry.state !== 'ready') this.#touch(entry, { state: 'prefetching' });
  }

  /** The break's plan is ready (prefetched here, or found ready in the state seam). */
  ready(record: BreakRecord): void {
    this.cued(record);
    const plans = Object.values(record.cohorts);
    this.#touch(this.#breaks.get(record.breakId)!, { state: 'ready', cohorts: plans.length, filledCohorts: plans.filter((p) => p.pod.length > 0).length });
  }

  /** A herd decision was served from the break's plan. */
  decided(record: BreakRecord): void {
    if (this.#breaks.get(record.breakId)?.state !== 'ready') this.ready(record);
    const entry = this.#breaks.get(record.breakId)!;
    this.#touch(entry, { herdDecisions: entry.herdDecisions + 1 });
  }

  /** Recent breaks, latest start first. */
  breaks(): BreakActivity[] {
    return [...this.#breaks.values()].map((b) => ({ ...b })).sort((a, b) => b.startsAt - a.startsAt);
  }

  #touch(entry: Mutable<BreakActivity>, change: Partial<BreakActivity>): void {
    Object.assign(entry, change, { updatedAt: this.#now() });
  }

  #put(entry: Mutable<BreakActivity>): void {
    this.#breaks.set(entry.breakId, entry);
    // The least recently cued break goes first (a Map keeps insertion order).
    while (this.#breaks.size > this.#capacity) this.#breaks.delete(this.#breaks.keys().next().value!);
  }
}
