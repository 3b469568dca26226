/**
 * Jittered delays. A herd of clients told "retry in 1 s" comes back together; jitter
 * spreads them (see the AWS Architecture Blog, "Exponential Backoff And Jitter").
 */

/** Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)]. */
export function fullJitterBackoff(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** A Retry-After value in whole seconds between `minSeconds` and `maxSeconds`, uniformly. */
export function jitteredRetryAfterSeconds(minSeconds: number, maxSeconds: number, random: () => number = Math.random): number {
  return minSeconds + Math.floor(random() * (maxSeconds - minSeconds + 1));
}
