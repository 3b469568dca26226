/**
 * Decides how loaded the collector is, from three signals: event-loop lag (worst over
 * the last second), records waiting for the transport, and request bytes in flight.
 * `soft` means shed low-priority events; `hard` means refuse whole requests with 503
 * so that clients retry the billing-critical ones later.
 */

/** The collector's load level. */
export type LoadLevel = 'ok' | 'soft' | 'hard';

/** Thresholds, from config. */
export interface LoadThresholds {
  readonly shedEventLoopLagMs: number;
  readonly hardEventLoopLagMs: number;
  readonly shedBacklogRecords: number;
  readonly hardBacklogRecords: number;
  readonly shedInFlightBytes: number;
  readonly hardInFlightBytes: number;
}

/** The signals at one moment. */
export interface LoadSignals {
  readonly eventLoopLagMs: number;
  readonly backlogRecords: number;
  readonly inFlightBytes: number;
}

/** The level the signals call for. */
export function loadLevel(signals: LoadSignals, t: LoadThresholds): LoadLevel {
  if (signals.eventLoopLagMs >= t.hardEventLoopLagMs || signals.backlogRecords >= t.hardBacklogRecords || signals.inFlightBytes >= t.hardInFlightBytes) {
    return 'hard';
  }
  if (signals.eventLoopLagMs >= t.shedEventLoopLagMs || signals.backlogRecords >= t.shedBacklogRecords || signals.inFlightBytes >= t.shedInFlightBytes) {
    return 'soft';
  }
  return 'ok';
}

/**
 * Measures event-loop lag as the lateness of a 20 ms ticker, keeping the worst of the
 * last second, so a request pays nothing to read it. (perf_hooks'
 * monitorEventLoopDelay was tried first: on Node 20 it did not register a 200 ms
 * synchronous block in its histogram, so it cannot drive shedding.)
 */
export class EventLoopLag {
  readonly #timer: NodeJS.Timeout;
  #expected = performance.now() + TICK_MS;
  #worstThisSecond = 0;
  #worstLastSecond = 0;
  #secondStartedAt = performance.now();

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#worstThisSecond = Math.max(this.#worstThisSecond, now - this.#expected);
      this.#expected = now + TICK_MS;
      if (now - this.#secondStartedAt >= 1000) {
        this.#worstLastSecond = this.#worstThisSecond;
        this.#worstThisSecond = 0;
        this.#secondStartedAt = now;
      }
    }, TICK_MS);
    this.#timer.unref();
  }

  /** The worst event-loop lag seen in the last full second (or the current one, if worse), in ms. */
  get lagMs(): number {
    return Math.max(this.#worstLastSecond, this.#worstThisSecond);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const TICK_MS = 20;
