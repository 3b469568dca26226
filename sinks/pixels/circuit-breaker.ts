/**
 * Per vendor domain: a circuit breaker, so a domain that keeps failing is probed
 * rather than hammered, and a token bucket, so no domain gets more than its TPS cap.
 *
 * The breaker is closed while requests succeed. `failures` consecutive failures
 * (5xx, 429, timeouts, network errors; a 4xx means the server is up) open it: nothing
 * is sent for `cooldownMs`, then one probe is let through (half-open). A successful
 * probe closes it; a failed one opens it again for twice as long, up to 32× the
 * cooldown. Queued beacons wait meanwhile; none is dropped.
 */

/** Circuit states, as the metric reports them. */
export const CIRCUIT = { closed: 0, halfOpen: 1, open: 2 } as const;

/** A circuit state. */
export type CircuitState = keyof typeof CIRCUIT;

export class CircuitBreaker {
  readonly #failures: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #consecutive = 0;
  #openUntil = 0;
  #cooldown: number;
  #probing = false;

  constructor(options: { failures: number; cooldownMs: number; now?: () => number }) {
    this.#failures = options.failures;
    this.#cooldownMs = options.cooldownMs;
    this.#cooldown = options.cooldownMs;
    this.#now = options.now ?? Date.now;
  }

  /** The state now (an open circuit past its cooldown reads half-open). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() >= this.#openUntil) return 'halfOpen';
    return this.#state;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when it would now). */
  get waitMs(): number {
    return this.#state === 'open' ? Math.max(0, this.#openUntil - this.#now()) : 0;
  }

  /** True when a request may be sent now; in half-open, only one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probing) return false;
    this.#state = 'halfOpen';
    this.#probing = true;
    return true;
  }

  /** A half-open circuit's probe is out (or its permission was never given back). */
  get probing(): boolean {
    return this.#probing;
  }

  /** Gives back a permission from {@link tryAcquire} that was not used (nothing was sent). */
  release(): void {
    this.#probing = false;
  }

  /** Records the result of a request let through by {@link tryAcquire}. */
  record(ok: boolean): void {
    const probe = this.#probing;
    this.#probing = false;
    if (ok) {
      this.#consecutive = 0;
      if (probe || this.#state !== 'closed') {
        this.#state = 'closed';
        this.#cooldown = this.#cooldownMs;
      }
      return;
    }
    this.#consecutive++;
    if (probe) {
      this.#cooldown = Math.min(this.#cooldown * 2, this.#cooldownMs * 32);
      this.#open();
    } else if (this.#state === 'closed' && this.#consecutive >= this.#failures) {
      this.#open();
    }
  }

  #open(): void {
    this.#state = 'open';
    this.#openUntil = this.#now() + this.#cooldown;
  }
}

/** A token bucket: `ratePerSec` tokens a second, holding at most one second's worth. */
export class TokenBucket {
  readonly #rate: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(ratePerSec: number, now: () => number = Date.now) {
    this.#rate = ratePerSec;
    this.#now = now;
    this.#tokens = ratePerSec;
    this.#at = now();
  }

  #refill(): void {
    const now = this.#now();
    if (now > this.#at) {
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
      this.#at = now;
    }
  }

  /** Takes a token if one is there. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token. */
  get waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.#rate);
  }
}
