/**
 * What one viewer does in one break, decided up front from the seed: when it asks for
 * ads, how far it watches each ad, which events it sends twice or late, and which bad
 * events it sends. Times are in simulated milliseconds from the decision; the player
 * divides them by the speed.
 */
import type { SimulationOptions } from './options.ts';
import { Random } from './random.ts';
import type { SimEventType } from './sim-vendors.ts';

/** One event a device will send. */
export interface PlannedEvent {
  /** Ad position in the pod, from 1. */
  readonly sequence: number;
  readonly type: SimEventType;
  /** Simulated ms after the decision. */
  readonly atMs: number;
  /** Playhead within the ad. */
  readonly playheadMs: number;
  /** Sent again with the same eventId (a device retry). */
  readonly duplicate: boolean;
  /** Held back and sent after the viewer's break is over. */
  readonly late: boolean;
}

/** A bad event a device will send. */
export interface PlannedBadEvent {
  readonly sequence: number;
  readonly atMs: number;
  /** `malformed`: an unknown event type (the collector refuses it); `tampered`: an altered token (dead-lettered). */
  readonly kind: 'malformed' | 'tampered';
}

/** One viewer's break. */
export interface ViewerPlan {
  /** When the viewer asks for its pod, in ms after the break starts (real time: the herd is not sped up). */
  readonly decisionDelayMs: number;
  readonly events: readonly PlannedEvent[];
  readonly bad: readonly PlannedBadEvent[];
  /** The viewer left the stream during this break. */
  readonly droppedOff: boolean;
  /** Clock skew of the device, ms (its occurredAt is off by this much). */
  readonly skewMs: number;
}

const QUARTILES: ReadonlyArray<readonly [SimEventType, number]> = [
  ['firstQuartile', 0.25],
  ['midpoint', 0.5],
  ['thirdQuartile', 0.75],
];
const SKIPPABLE_AFTER_MS = 5000;

/** The plan of `viewer` in break `breakIndex`. */
export function planViewer(o: SimulationOptions, viewer: number, breakIndex: number): ViewerPlan {
  const rng = Random.derive(o.seed, viewer, breakIndex);
  const durationMs = o.adDurationSec * 1000;
  const decisionDelayMs = rng.int(0, o.herdJitterMs);
  const skewMs = rng.int(-1500, 1500);
  // Where the viewer leaves, if it does: after the `leaveAfter`-th event of ad `leaveAd`.
  const droppedOff = rng.chance(o.dropOffRate);
  const leaveAd = droppedOff ? rng.int(1, o.podSize) : o.podSize + 1;
  const leaveAfter = droppedOff ? rng.int(1, 4) : Infinity;

  const events: PlannedEvent[] = [];
  const bad: PlannedBadEvent[] = [];
  // A skipped ad ends early: the next one starts where it stopped.
  let adStart = 0;
  for (let seq = 1; seq <= o.podSize && seq <= leaveAd; seq++) {
    const skipAt = rng.chance(o.skipRate) ? rng.int(SKIPPABLE_AFTER_MS, Math.floor(durationMs * 0.9)) : undefined;
    const journey: Array<readonly [SimEventType, number]> = [
      ['impression', 0],
      ['start', 1],
      ...QUARTILES.map(([type, f]) => [type, Math.round(durationMs * f)] as const),
      ['complete', durationMs],
    ];
    let sent = 0;
    for (const [type, playhead] of journey) {
      if (seq === leaveAd && sent >= leaveAfter) break;
      if (skipAt !== undefined && playhead >= skipAt) {
        events.push({ sequence: seq, type: 'skip', atMs: adStart + skipAt, playheadMs: skipAt, duplicate: rng.chance(o.duplicateRate), late: false });
        break;
      }
      const lateable = type === 'firstQuartile' || type === 'midpoint' || type === 'thirdQuartile';
      events.push({ sequence: seq, type, atMs: adStart + playhead, playheadMs: playhead, duplicate: rng.chance(o.duplicateRate), late: lateable && rng.chance(o.lateRate) });
      sent++;
    }
    if (rng.chance(o.badRate)) bad.push({ sequence: seq, atMs: adStart + rng.int(0, durationMs - 1), kind: rng.chance(0.5) ? 'malformed' : 'tampered' });
    adStart += skipAt ?? durationMs;
  }
  return { decisionDelayMs, events, bad, droppedOff, skewMs };
}

