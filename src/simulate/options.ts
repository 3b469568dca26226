/**
 * What a live-event simulation plays: how many viewers, breaks and ads, and how often
 * devices misbehave. Every rate is a probability in [0, 1].
 */
export interface SimulationOptions {
  readonly viewers: number;
  readonly breaks: number;
  readonly podSize: number;
  /** Each event is sent a second time with the same eventId (a device retry). */
  readonly duplicateRate: number;
  /** An extra malformed or tampered event is sent per ad play with this probability. */
  readonly badRate: number;
  /** A quartile event is held back and sent after the ad session has closed. */
  readonly lateRate: number;
  /** A viewer skips an ad once it is skippable. */
  readonly skipRate: number;
  /** A viewer leaves the stream mid-break; its session closes by inactivity. */
  readonly dropOffRate: number;
  readonly seed: number;
  /** Ad length in the ad server's pods, in seconds. */
  readonly adDurationSec: number;
  /** Playback runs this many times faster than real time (1 = real time). */
  readonly speed: number;
  /** The herd's decision requests spread over this many ms after the break starts. */
  readonly herdJitterMs: number;
  /** The live origin's cue arrives this long before the break. */
  readonly cueLeadMs: number;
  /** Telemetry clients the devices share (a device always uses the same one, so its order holds). */
  readonly clients: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = Object.freeze({
  viewers: 2000,
  breaks: 2,
  podSize: 3,
  duplicateRate: 0.02,
  badRate: 0.01,
  lateRate: 0.01,
  skipRate: 0.1,
  dropOffRate: 0.03,
  seed: 1,
  adDurationSec: 15,
  speed: 10,
  herdJitterMs: 3000,
  cueLeadMs: 3000,
  clients: 8,
});

/** Checks options; returns what is wrong (for the user to fix), or undefined. */
export function checkSimulationOptions(o: SimulationOptions): string | undefined {
  const positive: Array<keyof SimulationOptions> = ['viewers', 'breaks', 'podSize', 'adDurationSec', 'clients'];
  for (const k of positive) if (!Number.isInteger(o[k]) || (o[k] as number) < 1) return `--${dashed(k)} must be a whole number of at least 1, got ${String(o[k])}`;
  if (o.viewers > 1_000_000) return '--viewers is at most 1,000,000 on one machine';
  if (o.podSize > 10) return '--pod-size is at most 10';
  for (const k of ['duplicateRate', 'badRate', 'lateRate', 'skipRate', 'dropOffRate'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) return `--${dashed(k)} must be a probability between 0 and 1, got ${String(o[k])}`;
  }
  if (!(o.speed > 0 && o.speed <= 1000)) return `--speed must be above 0 and at most 1000, got ${String(o.speed)}`;
  if (!Number.isInteger(o.seed)) return `--seed must be a whole number, got ${String(o.seed)}`;
  if (o.adDurationSec < 6) return '--ad-duration must be at least 6 s (ads become skippable at 5 s)';
  return undefined;
}

/** `dropOffRate` → `drop-off-rate`. */
export function dashed(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
