/**
 * A token bucket per producer: `ratePerSec` sustained, `burst` at once. A request takes
 * one token per event; when the bucket cannot cover it, the caller learns how long to
 * wait, which becomes the (jittered) Retry-After.
 */

/** A bucket's outcome for one request. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSec: number, burst: number, now = Date.now()) {
    this.#ratePerMs = ratePerSec / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes `cost` tokens if there are enough. */
  take(cost: number, now = Date.now()): RateDecision {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
    // A request larger than the whole burst can never pass; let it through when the
    // bucket is full rather than refusing it forever.
    const needed = Math.min(cost, this.#burst);
    if (this.#tokens >= needed) {
      this.#tokens -= needed;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((needed - this.#tokens) / this.#ratePerMs) };
  }
}
