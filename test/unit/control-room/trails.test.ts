/**
 * The in-memory trails the Control Room reads: recent live breaks as an Ads Manager
 * saw them, the operator audit trail, and the billing query's throttle.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { BillingTotals } from '../../../src/control-room/billing-totals.ts';
import { OperatorAudit } from '../../../src/http/operator-audit.ts';
import type { BreakRecord } from '../../../src/live/break-plan.ts';
import { LiveActivity } from '../../../src/live/live-activity.ts';
import { createLogger } from '../../../src/telemetry/logger.ts';
import type { Warehouse } from '../../../src/warehouse/warehouse.ts';

const T0 = Date.UTC(2026, 10, 25, 20, 0, 0);
const cue = (breakId: string, startsAt = T0) => ({ liveEventId: 'final', breakId, startsAt, durationMs: 30_000 });
const plan = { pod: [], alternates: [] };
const filled = { pod: [{ mid: 'm', tokens: [] }], alternates: [] } as unknown as BreakRecord['cohorts'][string];

function ready(breakId: string): BreakRecord {
  return { v: 1, ...cue(breakId), podMaxAds: 2, issuedAt: T0, status: 'ready', preparedAt: T0, cohorts: { '*': filled, 'US.ctv.personalized': plan } };
}

describe('live activity', () => {
  it('follows a break from cue to prefetch to ready, and counts its herd decisions', () => {
    const activity = new LiveActivity({ now: () => T0 });
    activity.cued(cue('b1'));
    assert.equal(activity.breaks()[0]!.state, 'cued');
    activity.prefetching(cue('b1'));
    assert.equal(activity.breaks()[0]!.state, 'prefetching');
    activity.ready(ready('b1'));
    activity.decided(ready('b1'));
    activity.decided(ready('b1'));
    assert.deepEqual(activity.breaks(), [{ ...cue('b1'), state: 'ready', cohorts: 2, filledCohorts: 1, herdDecisions: 2, updatedAt: T0 }]);
  });

  it('learns of a break prefetched by another instance from its first herd decision', () => {
    const activity = new LiveActivity();
    activity.decided(ready('b2'));
    assert.deepEqual(activity.breaks().map((b) => [b.breakId, b.state, b.herdDecisions]), [['b2', 'ready', 1]]);
  });

  it('keeps the most recently cued breaks, latest start first', () => {
    const activity = new LiveActivity({ capacity: 2 });
    activity.cued(cue('b1', T0));
    activity.cued(cue('b2', T0 + 60_000));
    activity.cued(cue('b3', T0 + 30_000));
    assert.deepEqual(activity.breaks().map((b) => b.breakId), ['b2', 'b3']);
  });
});

describe('the operator audit trail', () => {
  it('logs every action with who and when, and keeps the last ones newest first', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const audit = new OperatorAudit(createLogger({ level: 'info', destination: sink }), { capacity: 2, now: () => T0 });
    audit.record({ name: 'ana' }, 'pixels-pause', { vendor: 'dv', queued: 0 }, 'operator paused a vendor\'s beacons');
    audit.record({ name: 'bo' }, 'pixels-resume', { vendor: 'dv', queued: 12 }, 'operator resumed a vendor\'s beacons');
    audit.record({ name: 'ana' }, 'pipeline-drain', { from: 'running' }, 'operator drained the pipeline');
    assert.deepEqual(audit.recent().map((a) => `${a.operator}:${a.action}`), ['ana:pipeline-drain', 'bo:pixels-resume']);
    assert.equal(lines.length, 3);
    assert.deepEqual(
      { audit: lines[1]!['audit'], operator: lines[1]!['operator'], at: lines[1]!['at'], vendor: lines[1]!['vendor'], queued: lines[1]!['queued'] },
      { audit: 'pixels-resume', operator: 'bo', at: new Date(T0).toISOString(), vendor: 'dv', queued: 12 },
    );
  });
});

describe('billing totals', () => {
  it('query the warehouse at most once per interval, in the background', async () => {
    let now = T0;
    const queries: string[] = [];
    const warehouse = {
      kind: 'chdb',
      database: 'quartile',
      query: async (sql: string) => {
        queries.push(sql);
        return [{ campaign_id: 'cmp-1', impressions: '48', spend: '0.6', currency: 'USD' }];
      },
    } as unknown as Warehouse;
    const billing = new BillingTotals(warehouse, { everyMs: 5_000, now: () => now });
    assert.deepEqual(billing.view(), { status: 'pending' }, 'the first view does not wait for ClickHouse');
    await billing.settle();
    for (let i = 0; i < 10; i++) billing.view();
    assert.equal(queries.length, 1);
    assert.match(queries[0]!, /FROM quartile\.billable_impressions FINAL\s+GROUP BY campaign_id/);
    assert.deepEqual(billing.view(), { status: 'ok', at: T0, campaigns: [{ campaignId: 'cmp-1', impressions: 48, spend: '0.6', currency: 'USD' }] });
    now += 5_000;
    billing.view();
    await billing.settle();
    assert.equal(queries.length, 2);
  });
});
