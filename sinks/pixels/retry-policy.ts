/**
 * What to do after one beacon attempt, as a value (STYLE.md: a retry decision is a
 * type). A 2xx is delivered. 5xx, 408, 429, timeouts and network failures are retried
 * with exponential backoff and full jitter, never sooner than the vendor's
 * Retry-After, until the beacon's deadline (MediaTailor gives up after an hour too).
 * Anything else (another 4xx, a refused address, a bad URL, a redirect loop) cannot
 * get better by trying again, and fails at once.
 */
import type { BeaconOutcome } from '../../src/beacons/dispatcher.ts';
import { fullJitterBackoff } from '../../src/core/jitter.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';

/** The decision after one attempt. */
export type AttemptDecision =
  | { readonly kind: 'delivered' }
  /** Try again at `at` (epoch ms); `reason` says what went wrong this time. */
  | { readonly kind: 'retry'; readonly at: number; readonly reason: ReasonCode }
  /** Give up: the beacon failed for good. */
  | { readonly kind: 'fail'; readonly reason: ReasonCode; readonly retriable: boolean };

/** Backoff settings. */
export interface RetrySettings {
  readonly baseMs: number;
  readonly maxDelayMs: number;
  readonly deadlineMs: number;
  /** Time one attempt may take: a retry that could not finish before the deadline is not started. */
  readonly attemptMs: number;
}

/** The decision for every delivered beacon: one object, not one per beacon. */
const DELIVERED: AttemptDecision = Object.freeze({ kind: 'delivered' });

/** The SINK_PIXEL_* code of a failed attempt. */
export function reasonOf(outcome: BeaconOutcome): ReasonCode {
  if (outcome.status !== null) return outcome.status >= 500 || outcome.status === 408 || outcome.status === 429 ? 'SINK_PIXEL_HTTP_5XX' : 'SINK_PIXEL_HTTP_4XX';
  switch (outcome.reason) {
    case 'NET_TIMEOUT':
      return 'SINK_PIXEL_TIMEOUT';
    case 'NET_ADDRESS_REFUSED':
      return 'SINK_PIXEL_SSRF_REFUSED';
    case 'NET_URL_INVALID':
    case 'NET_SCHEME_REFUSED':
    case 'NET_TOO_MANY_REDIRECTS':
      return 'SINK_PIXEL_URL_INVALID';
    default:
      return 'SINK_PIXEL_NETWORK';
  }
}

/**
 * Decides after attempt number `attempts` (1 for the first) of a beacon first queued
 * at `firstAt`.
 */
export function decide(outcome: BeaconOutcome, attempts: number, firstAt: number, now: number, settings: RetrySettings, random: () => number = Math.random): AttemptDecision {
  if (outcome.outcome === 'delivered') return DELIVERED;
  const reason = reasonOf(outcome);
  if (outcome.outcome === 'reject') return { kind: 'fail', reason, retriable: false };
  const backoff = Math.max(settings.baseMs / 10, fullJitterBackoff(attempts - 1, settings.baseMs, settings.maxDelayMs, random));
  // Retry-After is the vendor's own word: never sooner, even past our usual cap.
  const delay = Math.max(backoff, outcome.retryAfterMs ?? 0);
  const at = now + delay;
  if (at + settings.attemptMs > firstAt + settings.deadlineMs) return { kind: 'fail', reason: 'SINK_PIXEL_RETRIES_EXHAUSTED', retriable: true };
  return { kind: 'retry', at, reason };
}
