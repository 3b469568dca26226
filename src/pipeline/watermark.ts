/**
 * Event time and per-partition watermarks.
 *
 * Event time is the device's `occurredAt`, clamped to at most a few seconds after the
 * collector received it: one device with a clock an hour fast must not drag the
 * watermark forward and close every open session early.
 *
 * A partition's watermark trails its newest event time by the allowed lateness. A
 * partition with no traffic would never move its watermark, so event time is then
 * taken to follow wall-clock time, `idleMs` behind (the processing-time fallback).
 */
import type { AdEvent } from '../../schemas/types.ts';

/** Device clocks may run ahead of the collector's by at most this much. */
const MAX_AHEAD_MS = 5_000;

/** The event time used for sessions and watermarks. */
export function eventTimeOf(raw: AdEvent): number {
  return Math.min(raw.occurredAt, raw.receivedAt + MAX_AHEAD_MS);
}

/** Watermarks of the partitions one process owns. */
export class Watermarks {
  readonly #newest = new Map<string, number>();
  readonly #lastActivity = new Map<string, number>();
  readonly #latenessMs: number;
  readonly #idleMs: number;

  constructor(options: { allowedLatenessMs: number; idleMs: number }) {
    this.#latenessMs = options.allowedLatenessMs;
    this.#idleMs = options.idleMs;
  }

  /** Records the event times seen in a batch. */
  observe(partitionKey: string, eventTimes: readonly number[], now: number): void {
    let newest = this.#newest.get(partitionKey) ?? Number.NEGATIVE_INFINITY;
    for (const t of eventTimes) if (t > newest) newest = t;
    this.#newest.set(partitionKey, newest);
    this.#lastActivity.set(partitionKey, now);
  }

  /** The partition's watermark now. */
  watermark(partitionKey: string, now: number): number {
    const byEvents = (this.#newest.get(partitionKey) ?? Number.NEGATIVE_INFINITY) - this.#latenessMs;
    const idleSince = this.#lastActivity.get(partitionKey);
    const byClock = idleSince === undefined || now - idleSince >= this.#idleMs ? now - this.#idleMs - this.#latenessMs : Number.NEGATIVE_INFINITY;
    return Math.max(byEvents, byClock);
  }

  /** Forgets a partition this process no longer owns. */
  forget(partitionKey: string): void {
    this.#newest.delete(partitionKey);
    this.#lastActivity.delete(partitionKey);
  }
}
