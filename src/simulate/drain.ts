/**
 * Waiting for the engine to finish a simulation: poll what it produced until it
 * matches the ground truth, or until nothing has changed for a while, or a deadline.
 * The dead-letter and rejected topics are read only once the rest matches (reading a
 * topic from its start is the slow part).
 */
import type { LiveEventRun } from './live-event.ts';
import type { Observation, ObservationLevel } from './observation.ts';
import { reconcile, type ReconcileReport } from './reconcile.ts';
import { SIM_VENDORS } from './sim-vendors.ts';
import type { BeaconGrid } from './beacon-grid.ts';

/** Reads the engine's observation of a live event. */
export type Observe = (liveEventId: string, sinceMs: number, level: ObservationLevel) => Promise<Observation>;

export interface DrainResult {
  readonly report: ReconcileReport;
  readonly observation: Observation;
  /** From the first break's start to the newest billable row, in seconds. */
  readonly drainSeconds: number;
  /** True when the deadline or the stall limit ended the wait. */
  readonly gaveUp: boolean;
}

/** Figures of one poll, for progress display. */
export interface DrainProgress {
  readonly billed: number;
  readonly billable: number;
  readonly sessions: number;
  readonly sessionsExpected: number;
  readonly beacons: number;
  readonly beaconsExpected: number;
}

export interface DrainOptions {
  /** Give up this long after the last event was sent. Default 5 min. */
  readonly timeoutMs?: number;
  /** Give up when nothing changed for this long. Default 90 s. */
  readonly stallMs?: number;
  readonly onPoll?: (progress: DrainProgress) => void;
  /** The vendors' counts of re-fired requests (see vendor-server.ts). */
  readonly refired?: () => Record<string, number>;
}

/** Whether the observed counts reached the ground truth's. */
function reached(observation: Observation, run: Pick<LiveEventRun, 'truth'>, beacons: number, beaconsExpected: number): boolean {
  return observation.billableCount >= run.truth.billable.size && observation.sessions.total >= run.truth.sessions.total && beacons >= beaconsExpected;
}

function sumCells(grid: BeaconGrid): number {
  let n = 0;
  for (const vendor of SIM_VENDORS) for (const c of grid.cells(vendor.name)) n += c;
  return n;
}

/**
 * Polls cheap counts until they reach the ground truth, nothing changes for `stallMs`,
 * or the deadline passes; then reconciles on the full observation. Each poll reads the
 * unmerged counts (level `progress`), and the exact ones (FINAL) only once those reach
 * the truth: unmerged counts are never below the exact ones. A 100,000-viewer break
 * bills 300,000 impressions and fires 2 million beacons; their ids and FINAL merges
 * are read when they can settle the question, not every second.
 */
export async function drainAndReconcile(run: Pick<LiveEventRun, 'runKey' | 'liveEventId' | 'truth' | 'firstBreakAt' | 'lastEventAt'>, hits: BeaconGrid, observe: Observe, options: DrainOptions = {}): Promise<DrainResult> {
  const deadline = run.lastEventAt + (options.timeoutMs ?? 300_000);
  const since = run.firstBreakAt - 60_000;
  const beaconsExpected = sumCells(run.truth.expected);
  let last = '';
  let changedAt = Date.now();
  for (;;) {
    let observation: Observation | undefined;
    const beacons = sumCells(hits);
    try {
      observation = await observe(run.liveEventId, since, 'progress');
      if (reached(observation, run, beacons, beaconsExpected)) observation = await observe(run.liveEventId, since, 'counts');
    } catch {
      // The engine is restarting or its warehouse is down: keep waiting.
    }
    if (observation !== undefined) {
      const progress: DrainProgress = {
        billed: observation.billableCount,
        billable: run.truth.billable.size,
        sessions: observation.sessions.total,
        sessionsExpected: run.truth.sessions.total,
        beacons,
        beaconsExpected,
      };
      options.onPoll?.(progress);
      const settled = observation.level !== 'progress' && reached(observation, run, beacons, beaconsExpected);
      const stalled = Date.now() - changedAt > (options.stallMs ?? 90_000);
      const late = Date.now() > deadline;
      if (settled || stalled || late) {
        const full = await observe(run.liveEventId, since, 'detailed').catch(() => undefined);
        if (full !== undefined) {
          const final = reconcile(run.truth, full, hits, run.runKey, options.refired?.());
          if (final.ok || stalled || late) {
            const drainSeconds = full.lastBilledAt > 0 ? Math.max(0, (full.lastBilledAt - run.firstBreakAt) / 1000) : 0;
            return { report: final, observation: full, drainSeconds, gaveUp: !final.ok };
          }
        }
      }
      const print = JSON.stringify([progress, observation.beaconProblems.length]);
      if (print !== last) {
        last = print;
        changedAt = Date.now();
      }
    } else if (Date.now() > deadline) {
      throw new Error('the engine did not answer for its observation of the live event before the deadline');
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
