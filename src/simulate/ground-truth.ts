/**
 * What a simulation expects of the engine, recorded as devices send: which impressions
 * should be billed (once each), which ad sessions should exist, which beacons should
 * reach each vendor (and which consent should suppress), and what reason code each bad
 * event should end with.
 */
import { BeaconGrid, type GridShape } from './beacon-grid.ts';
import { vendorMayFire, type ConsentClass } from './devices.ts';
import { SIM_VENDORS, type SimEventType } from './sim-vendors.ts';

/** Reason codes the bad events must end with. */
export const BAD_EVENT_CODES = { malformed: 'EVENT_UNKNOWN_EVENT_TYPE', tampered: 'DECRYPT_TOKEN_TAMPERED' } as const;

/** Counts of what was sent. */
export interface SentCounts {
  events: number;
  duplicates: number;
  late: number;
  bad: number;
  decisions: number;
  decisionsFailed: number;
  adPlays: number;
  /** Valid events the engine refused under load (shed), or the client gave up on: expected nowhere. */
  notAccepted: number;
}

export class GroundTruth {
  readonly expected: BeaconGrid;
  readonly suppressed: BeaconGrid;
  /** eventId → beacon cell of every valid event sent. */
  readonly cellOf = new Map<string, number>();
  /** Impression event ids that should be billed once each. */
  readonly billable = new Set<string>();
  /** eventId → reason code it must end with. */
  readonly bad = new Map<string, string>();
  /** Ad plays with at least one valid event: one ad session each. */
  readonly sessions = { total: 0, completed: 0, skipped: 0 };
  readonly sent: SentCounts = { events: 0, duplicates: 0, late: 0, bad: 0, decisions: 0, decisionsFailed: 0, adPlays: 0, notAccepted: 0 };

  constructor(shape: GridShape) {
    this.expected = new BeaconGrid(shape);
    this.suppressed = new BeaconGrid(shape);
  }

  /** A valid event, the first time it is sent. */
  recordEvent(eventId: string, cell: number, type: SimEventType, consent: ConsentClass): void {
    this.cellOf.set(eventId, cell);
    if (type === 'impression') this.billable.add(eventId);
    for (const vendor of SIM_VENDORS) {
      if (!vendor.tracks.includes(type)) continue;
      (vendorMayFire(consent, vendor) ? this.expected : this.suppressed).add(vendor.name, cell);
    }
  }

  /** One ad play: its session's expected outcome. */
  recordSession(types: ReadonlySet<SimEventType>): void {
    if (types.size === 0) return;
    this.sessions.total++;
    if (types.has('complete')) this.sessions.completed++;
    if (types.has('skip')) this.sessions.skipped++;
  }

  recordBad(eventId: string, code: string): void {
    this.bad.set(eventId, code);
    this.sent.bad++;
  }

  /**
   * A valid event that never reached the engine (shed with EVENT_SHED, or dropped by
   * the client): it is expected nowhere. Its session stays expected.
   */
  forget(eventId: string, consent: ConsentClass): void {
    const cell = this.cellOf.get(eventId);
    if (cell === undefined) return;
    this.cellOf.delete(eventId);
    this.billable.delete(eventId);
    this.sent.notAccepted++;
    const { type } = this.expected.describe(cell);
    for (const vendor of SIM_VENDORS) {
      if (!vendor.tracks.includes(type)) continue;
      const grid = vendorMayFire(consent, vendor) ? this.expected : this.suppressed;
      grid.cells(vendor.name)[cell] = Math.max(0, grid.get(vendor.name, cell) - 1);
    }
  }
}
