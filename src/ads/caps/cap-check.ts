/**
 * Frequency caps at decision time: one read of a viewer's counters for every
 * candidate ad, then a synchronous check per ad. Ads chosen for the same pod count
 * too (`reserve`), so a pod never holds more of a campaign than its cap allows.
 */
import type { StateStore } from '../../state/state-store.ts';
import { readKeys, scopeValue, seriesId, type CapSubject } from './cap-keys.ts';
import type { CapRule } from './cap-rules.ts';

/** Reads counters of `profileKey` for `subjects` (one round trip); series id → count. */
export async function readCapCounts(
  state: StateStore,
  rules: readonly CapRule[],
  profileKey: string,
  subjects: readonly CapSubject[],
  liveEventId: string | null,
  now: number = Date.now(),
): Promise<ReadonlyMap<string, number>> {
  const series: Array<{ id: string; keys: readonly string[] }> = [];
  const wanted = new Set<string>();
  for (const rule of rules) {
    for (const subject of subjects) {
      const value = scopeValue(subject, rule.scope);
      const id = seriesId(rule, value);
      if (value === '' || wanted.has(id)) continue;
      wanted.add(id);
      const keys = readKeys(rule, profileKey, value, liveEventId, now);
      if (keys.length > 0) series.push({ id, keys });
    }
  }
  const counts = new Map<string, number>();
  if (series.length === 0) return counts;
  const values = await state.getMany(series.flatMap((s) => s.keys));
  let at = 0;
  for (const s of series) {
    let sum = 0;
    for (let i = 0; i < s.keys.length; i++) sum += Number(values[at++] ?? 0) || 0;
    counts.set(s.id, sum);
  }
  return counts;
}

/** A viewer's cap state for one decision. */
export class CapCheck {
  readonly #rules: readonly CapRule[];
  readonly #counts: Map<string, number>;

  private constructor(rules: readonly CapRule[], counts: ReadonlyMap<string, number>) {
    this.#rules = rules;
    this.#counts = new Map(counts);
  }

  /** No caps: a viewer with no profile or device id, or no rules configured. */
  static none(): CapCheck {
    return new CapCheck([], new Map());
  }

  /** Loads the counters of `profileKey` for every candidate (null key = no caps). */
  static async load(
    state: StateStore,
    rules: readonly CapRule[],
    profileKey: string | null,
    subjects: readonly CapSubject[],
    liveEventId: string | null,
    now: number = Date.now(),
  ): Promise<CapCheck> {
    if (profileKey === null || rules.length === 0) return CapCheck.none();
    const relevant = rules.filter((r) => r.window.kind !== 'live-event' || (liveEventId !== null && liveEventId !== ''));
    return new CapCheck(relevant, await readCapCounts(state, relevant, profileKey, subjects, liveEventId, now));
  }

  /** The first rule `subject` is at or over, or null when it may be shown. */
  cappedBy(subject: CapSubject): CapRule | null {
    for (const rule of this.#rules) {
      const value = scopeValue(subject, rule.scope);
      if (value === '') continue;
      if ((this.#counts.get(seriesId(rule, value)) ?? 0) >= rule.max) return rule;
    }
    return null;
  }

  /** Counts `subject` as shown, for the rest of this decision. */
  reserve(subject: CapSubject): void {
    const bumped = new Set<string>();
    for (const rule of this.#rules) {
      const value = scopeValue(subject, rule.scope);
      const id = seriesId(rule, value);
      // Rules that share a counter (same scope and window) count the impression once.
      if (value === '' || bumped.has(id)) continue;
      bumped.add(id);
      this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
    }
  }
}
