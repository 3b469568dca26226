/** Reconciliation catches every way an engine can get a live event wrong. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BeaconGrid } from '../../../src/simulate/beacon-grid.ts';
import { eventIdOf } from '../../../src/simulate/event-ids.ts';
import { GroundTruth } from '../../../src/simulate/ground-truth.ts';
import type { Observation } from '../../../src/simulate/observation.ts';
import { reconcile } from '../../../src/simulate/reconcile.ts';

const shape = { viewers: 4, breaks: 1, podSize: 2 };
const RUN = 'run1';

/** Viewer 0 and 1 outside GDPR, viewer 2 without a consent string; each sees ad 1's impression and complete. */
function scenario() {
  const truth = new GroundTruth(shape);
  const hits = new BeaconGrid(shape);
  const impressions: string[] = [];
  for (const [viewer, consent] of [[0, 'outside-gdpr'], [1, 'outside-gdpr'], [2, 'no-string']] as const) {
    for (const type of ['impression', 'complete'] as const) {
      const cell = truth.expected.cell(viewer, 0, 1, type)!;
      const id = eventIdOf(RUN, cell);
      truth.recordEvent(id, cell, type, consent);
      if (type === 'impression') impressions.push(id);
      if (consent === 'outside-gdpr') {
        hits.add('dv', cell);
        if (type === 'impression') {
          hits.add('ias', cell);
          hits.add('nielsen', cell);
        }
      }
    }
    truth.recordSession(new Set(['impression', 'complete']));
  }
  truth.recordBad('bad-1', 'DECRYPT_TOKEN_TAMPERED');
  const observed: Observation = {
    level: 'detailed',
    billableCount: impressions.length,
    billable: [...impressions],
    billableRowsUnmerged: 3,
    lastBilledAt: Date.now(),
    sessions: { total: 3, completed: 3, skipped: 0 },
    beaconProblems: [],
    deadLetters: [{ eventId: 'bad-1', code: 'DECRYPT_TOKEN_TAMPERED' }],
    rejected: [],
    campaigns: [],
  };
  return { truth, hits, observed, impressions };
}

describe('reconcile', () => {
  it('is ok when everything arrived once', () => {
    const { truth, hits, observed } = scenario();
    const r = reconcile(truth, observed, hits, RUN);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.expected.billable, 3);
    assert.deepEqual(r.expected.beacons, { dv: 4, ias: 2, nielsen: 2 });
    assert.deepEqual(r.expected.suppressed, { dv: 2, ias: 1, nielsen: 1 });
  });

  it('counts a missing and an unexpected billable impression', () => {
    const { truth, hits, observed } = scenario();
    const r = reconcile(truth, { ...observed, billable: [...observed.billable.slice(1), 'not-sent'] }, hits, RUN);
    assert.equal(r.ok, false);
    assert.equal(r.missing.billable, 1);
    assert.equal(r.unexpected.billable, 1);
  });

  it('counts a beacon fired twice, and one fired against consent', () => {
    const { truth, hits, observed } = scenario();
    hits.add('dv', truth.expected.cell(0, 0, 1, 'impression')!);
    hits.add('ias', truth.expected.cell(2, 0, 1, 'impression')!);
    const r = reconcile(truth, observed, hits, RUN);
    assert.equal(r.duplicated.beacons, 1);
    assert.equal(r.unexpected.beaconsAgainstConsent, 1);
    assert.equal(r.ok, false);
  });

  it('accepts a missing beacon only when the engine recorded giving up on it', () => {
    const { truth, hits, observed } = scenario();
    const cell = truth.expected.cell(1, 0, 1, 'complete')!;
    hits.cells('dv')[cell] = 0;
    assert.equal(reconcile(truth, observed, hits, RUN).missing.beacons, 1);
    const explained = reconcile(truth, { ...observed, beaconProblems: [{ eventId: eventIdOf(RUN, cell), vendor: 'dv', outcome: 'failed', reason: 'SINK_PIXEL_RETRIES_EXHAUSTED' }] }, hits, RUN);
    assert.equal(explained.missing.beacons, 0);
    assert.deepEqual(explained.missing.beaconsExplained, { SINK_PIXEL_RETRIES_EXHAUSTED: 1 });
    assert.equal(explained.ok, true);
  });

  it('wants every bad event to end with its own reason code, and every session', () => {
    const { truth, hits, observed } = scenario();
    assert.equal(reconcile(truth, { ...observed, deadLetters: [] }, hits, RUN).missing.badEvents, 1);
    assert.equal(reconcile(truth, { ...observed, deadLetters: [{ eventId: 'bad-1', code: 'DECRYPT_TOKEN_MALFORMED' }] }, hits, RUN).unexpected.badEventCodes, 1);
    const short = reconcile(truth, { ...observed, sessions: { total: 2, completed: 2, skipped: 0 } }, hits, RUN);
    assert.equal(short.missing.sessions, 1);
    assert.equal(short.ok, false);
  });
});
