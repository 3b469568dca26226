/**
 * Counting an impression against every cap rule that applies to it. The pipeline's
 * frequency-cap processor calls this once per impression event; the Ads Manager reads
 * the same counters at decision time (cap-check.ts).
 */
import type { CounterIncrement, StateStore } from '../../state/state-store.ts';
import { counterFor, ledgerKey, type CapSubject } from './cap-keys.ts';
import type { CapRule } from './cap-rules.ts';

/** One impression, as the pipeline knows it after the hash step. */
export interface CapImpression extends CapSubject {
  /** The event's id: counting is idempotent per id. */
  readonly eventId: string;
  /** The viewer's keyed hash, from {@link profileKeyOf}. */
  readonly profileKey: string;
  /** The live event the ad played in; null for VOD (live-event rules then do not apply). */
  readonly liveEventId: string | null;
  /** When the impression happened (ms since the epoch): it picks the time bucket. */
  readonly occurredAt: number;
}

/**
 * Increments the current bucket of every rule that applies, once per `eventId`: a
 * replay or a duplicate of the same event changes nothing. `counted` is true only
 * for the call that did the increments; it is false for a repeat, and when no rule
 * applies (no rules, no ids in the rules' scopes, or the impression is older than
 * every window).
 */
export async function countImpression(state: StateStore, rules: readonly CapRule[], impression: CapImpression, now: number = Date.now()): Promise<{ counted: boolean }> {
  const increments: CounterIncrement[] = [];
  const seen = new Set<string>();
  let guardTtlMs = 0;
  for (const rule of rules) {
    const slot = counterFor(rule, impression.profileKey, impression, impression.liveEventId, impression.occurredAt, now);
    // Two rules with one scope and window (say max 3 and max 5) share their counter.
    if (slot === null || seen.has(slot.key)) continue;
    seen.add(slot.key);
    increments.push({ key: slot.key, by: 1, ttlMs: slot.ttlMs });
    guardTtlMs = Math.max(guardTtlMs, slot.ttlMs);
  }
  if (increments.length === 0) return { counted: false };
  // The ledger entry lives as long as the longest counter: a replay after that has nothing left to double.
  const result = await state.incrementOnce(ledgerKey(impression.profileKey, impression.eventId), guardTtlMs, increments);
  return { counted: result.applied };
}
