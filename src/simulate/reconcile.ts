/**
 * Reconciliation: the simulation's ground truth against what the engine produced.
 * `ok` holds only when
 * - every billable impression is billed exactly once, and nothing else is billed;
 * - every ad play has its session, with the right number completed and skipped;
 * - no beacon fired twice, none fired against consent, and every missing beacon is
 *   explained by the engine giving up on it (retries exhausted, recorded in
 *   beacon_deliveries and the dead-letter topic);
 * - every bad event ended with the reason code it should have.
 */
import type { BeaconGrid } from './beacon-grid.ts';
import { eventIdOf } from './event-ids.ts';
import type { GroundTruth } from './ground-truth.ts';
import type { Observation } from './observation.ts';
import { SIM_VENDORS } from './sim-vendors.ts';

type PerVendor = Record<string, number>;

export interface ReconcileReport {
  readonly expected: {
    readonly billable: number;
    readonly sessions: GroundTruth['sessions'];
    readonly beacons: PerVendor;
    readonly suppressed: PerVendor;
    readonly badEvents: Record<string, number>;
  };
  readonly observed: {
    readonly billable: number;
    readonly billableRowsUnmerged: number;
    readonly sessions: Observation['sessions'];
    readonly beacons: PerVendor;
    /**
     * Requests that repeated a delivered beacon byte for byte (same cache buster): a retry
     * after a timeout whose request had in fact arrived, or a re-send after a crash. A
     * vendor deduplicating by URL counts them once.
     */
    readonly beaconsRefired: PerVendor;
    readonly badEvents: Record<string, number>;
  };
  readonly missing: {
    readonly billable: number;
    readonly sessions: number;
    /** Beacons that reached no vendor and that nothing explains. */
    readonly beacons: number;
    /** Beacons that reached no vendor because the engine gave up on them, by reason. */
    readonly beaconsExplained: Record<string, number>;
    readonly badEvents: number;
  };
  readonly duplicated: { readonly billable: number; readonly beacons: number };
  readonly unexpected: {
    /** Billed impressions the simulation never sent as valid. */
    readonly billable: number;
    /** Beacons fired where consent should have suppressed them. */
    readonly beaconsAgainstConsent: number;
    /** Bad events that ended with another code than expected. */
    readonly badEventCodes: number;
    /** Sessions beyond the ad plays. */
    readonly sessions: number;
  };
  readonly ok: boolean;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** Compares; `runKey` rebuilds event ids of beacon cells; `refired` are the vendors' counts of repeated requests. */
export function reconcile(truth: GroundTruth, observed: Observation, hits: BeaconGrid, runKey: string, refired: PerVendor = {}): ReconcileReport {
  // Billing.
  const billedIds = new Set<string>();
  let duplicatedBillable = 0;
  let unexpectedBillable = 0;
  for (const id of observed.billable) {
    if (billedIds.has(id)) duplicatedBillable++;
    billedIds.add(id);
    if (!truth.billable.has(id)) unexpectedBillable++;
  }
  let missingBillable = 0;
  for (const id of truth.billable) if (!billedIds.has(id)) missingBillable++;

  // Beacons.
  const gaveUp = new Map<string, string>();
  for (const p of observed.beaconProblems) if (p.outcome === 'failed') gaveUp.set(`${p.eventId}|${p.vendor}`, p.reason);
  const expectedBeacons: PerVendor = {};
  const suppressed: PerVendor = {};
  const observedBeacons: PerVendor = {};
  const explained: Record<string, number> = {};
  let missingBeacons = 0;
  let duplicatedBeacons = 0;
  let againstConsent = 0;
  for (const vendor of SIM_VENDORS) {
    const want = truth.expected.cells(vendor.name);
    const quiet = truth.suppressed.cells(vendor.name);
    const got = hits.cells(vendor.name);
    let e = 0;
    let s = 0;
    let o = 0;
    for (let cell = 0; cell < want.length; cell++) {
      const w = want[cell]!;
      const g = got[cell]!;
      e += w;
      s += quiet[cell]!;
      o += g;
      if (g > w) {
        if (quiet[cell]! > 0) againstConsent += g - w;
        else duplicatedBeacons += g - w;
      } else if (g < w) {
        const reason = gaveUp.size === 0 ? undefined : gaveUp.get(`${eventIdOf(runKey, cell)}|${vendor.name}`);
        if (reason === undefined) missingBeacons += w - g;
        else explained[reason] = (explained[reason] ?? 0) + (w - g);
      }
    }
    expectedBeacons[vendor.name] = e;
    suppressed[vendor.name] = s;
    observedBeacons[vendor.name] = o;
  }

  // Bad events.
  const expectedBad: Record<string, number> = {};
  for (const code of truth.bad.values()) expectedBad[code] = (expectedBad[code] ?? 0) + 1;
  const endedWith = new Map<string, string>();
  for (const { eventId, code } of [...observed.deadLetters, ...observed.rejected]) if (truth.bad.has(eventId)) endedWith.set(eventId, code);
  const observedBad: Record<string, number> = {};
  let missingBad = 0;
  let wrongCode = 0;
  for (const [id, code] of truth.bad) {
    const got = endedWith.get(id);
    if (got === undefined) missingBad++;
    else {
      observedBad[got] = (observedBad[got] ?? 0) + 1;
      if (got !== code) wrongCode++;
    }
  }

  const sessionsMissing = Math.max(0, truth.sessions.total - observed.sessions.total);
  const sessionsExtra = Math.max(0, observed.sessions.total - truth.sessions.total);
  const sessionsRight = sessionsMissing === 0 && sessionsExtra === 0 && observed.sessions.completed === truth.sessions.completed && observed.sessions.skipped === truth.sessions.skipped;

  const ok =
    missingBillable === 0 &&
    duplicatedBillable === 0 &&
    unexpectedBillable === 0 &&
    sessionsRight &&
    missingBeacons === 0 &&
    duplicatedBeacons === 0 &&
    againstConsent === 0 &&
    missingBad === 0 &&
    wrongCode === 0;
  return {
    expected: { billable: truth.billable.size, sessions: { ...truth.sessions }, beacons: expectedBeacons, suppressed, badEvents: expectedBad },
    observed: { billable: billedIds.size, billableRowsUnmerged: observed.billableRowsUnmerged, sessions: observed.sessions, beacons: observedBeacons, beaconsRefired: { ...refired }, badEvents: observedBad },
    missing: { billable: missingBillable, sessions: sessionsMissing, beacons: missingBeacons, beaconsExplained: explained, badEvents: missingBad },
    duplicated: { billable: duplicatedBillable, beacons: duplicatedBeacons },
    unexpected: { billable: unexpectedBillable, beaconsAgainstConsent: againstConsent, badEventCodes: wrongCode, sessions: sessionsExtra },
    ok,
  };
}

/** The report as a table for people. */
export function formatReconcile(r: ReconcileReport): string {
  const rows: Array<[string, string, string, string]> = [
    ['billable impressions', String(r.expected.billable), String(r.observed.billable), problems({ missing: r.missing.billable, duplicated: r.duplicated.billable, unexpected: r.unexpected.billable })],
    [
      'ad sessions (completed/skipped)',
      `${r.expected.sessions.total} (${r.expected.sessions.completed}/${r.expected.sessions.skipped})`,
      `${r.observed.sessions.total} (${r.observed.sessions.completed}/${r.observed.sessions.skipped})`,
      problems({ missing: r.missing.sessions, unexpected: r.unexpected.sessions }),
    ],
    ...SIM_VENDORS.map((v): [string, string, string, string] => [
      `beacons ${v.name}`,
      `${r.expected.beacons[v.name] ?? 0} (+${r.expected.suppressed[v.name] ?? 0} suppressed)`,
      String(r.observed.beacons[v.name] ?? 0),
      '',
    ]),
    ['beacons, all vendors', String(sum(r.expected.beacons)), String(sum(r.observed.beacons)), problems({ missing: r.missing.beacons, duplicated: r.duplicated.beacons, 'against consent': r.unexpected.beaconsAgainstConsent }) + notes({ 'given up and dead-lettered': sum(r.missing.beaconsExplained), 're-sent identically (a retry after a timeout or a crash)': sum(r.observed.beaconsRefired) })],
    ...Object.entries(r.expected.badEvents).map(([code, n]): [string, string, string, string] => [`bad events ${code}`, String(n), String(r.observed.badEvents[code] ?? 0), ''] ),
    ['bad events, all', String(sum(r.expected.badEvents)), String(sum(r.observed.badEvents)), problems({ unaccounted: r.missing.badEvents, 'wrong code': r.unexpected.badEventCodes })],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length), ['', 'expected', 'observed'][i]!.length));
  const line = (row: readonly string[]): string => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padStart(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}  ${row[3] ?? ''}`.trimEnd();
  return [line(['', 'expected', 'observed', '']), ...rows.map(line), '', r.ok ? 'reconcile: OK — nothing lost, nothing doubled' : 'reconcile: NOT OK — see the problems above'].join('\n');
}

function notes(counts: Record<string, number>): string {
  const found = Object.entries(counts).filter(([, n]) => n > 0);
  return found.length === 0 ? '' : ` (${found.map(([what, n]) => `${n} ${what}`).join(', ')})`;
}

function problems(counts: Record<string, number>): string {
  const found = Object.entries(counts).filter(([, n]) => n > 0);
  return found.length === 0 ? 'ok' : found.map(([what, n]) => `${n} ${what}`).join(', ');
}
