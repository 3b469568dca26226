/**
 * The Control Room snapshot from an engine's own metrics: stages in flow order with
 * rates, reason codes summed across stages, beacon success and latency per vendor
 * merged with the queue and pauses, the live panel, and per-role absence.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readMetrics } from '../../../src/control-room/metric-readings.ts';
import { buildSnapshot, type SnapshotSources } from '../../../src/control-room/snapshot.ts';
import { createMetrics, type Metrics } from '../../../src/telemetry/metrics.ts';
import type { BreakActivity } from '../../../src/live/live-activity.ts';

const T0 = Date.UTC(2026, 10, 25, 20, 0, 0);

async function sources(metrics: Metrics, at: number, extra: Partial<SnapshotSources> = {}): Promise<SnapshotSources> {
  return {
    at,
    role: 'all',
    runs: { collector: true, adsManager: true, pipeline: true },
    metrics: await readMetrics(metrics),
    vendors: [],
    billing: { status: 'pending' },
    breaks: [],
    pipeline: 'running',
    actions: [],
    ...extra,
  };
}

describe('the Control Room snapshot', () => {
  it('lists stages in the order events flow, with events per second since the previous snapshot', async () => {
    const m = createMetrics();
    for (const stage of ['sinks/pixels', 'route', 'collector', 'decode']) m.eventsOut.inc({ stage }, 4);
    const first = buildSnapshot(await sources(m, T0));
    assert.deepEqual(first.stages.map((s) => [s.stage, s.total, s.perSecond]), [
      ['collector', 4, 0],
      ['decode', 4, 0],
      ['route', 4, 0],
      ['sinks/pixels', 4, 0],
    ]);
    m.eventsOut.inc({ stage: 'collector' }, 10);
    const second = buildSnapshot(await sources(m, T0 + 2_000), first);
    assert.deepEqual(second.stages.map((s) => [s.stage, s.total, s.perSecond]), [
      ['collector', 14, 5],
      ['decode', 4, 0],
      ['route', 4, 0],
      ['sinks/pixels', 4, 0],
    ]);
  });

  it('sums dead letters, rejects and drops by reason code, largest first', async () => {
    const m = createMetrics();
    m.deadLettered.inc({ stage: 'decrypt', code: 'DECRYPT_TOKEN_EXPIRED' }, 2);
    m.deadLettered.inc({ stage: 'sinks/pixels', code: 'SINK_PIXEL_HTTP_4XX' }, 1);
    m.deadLettered.inc({ stage: 'resolve', code: 'DECRYPT_TOKEN_EXPIRED' }, 3);
    m.rejected.inc({ code: 'EVENT_TOO_OLD' }, 7);
    m.dropped.inc({ stage: 'dedupe', reason: 'duplicate' }, 1);
    const s = buildSnapshot(await sources(m, T0));
    assert.deepEqual(s.deadLetters, [{ code: 'DECRYPT_TOKEN_EXPIRED', count: 5 }, { code: 'SINK_PIXEL_HTTP_4XX', count: 1 }]);
    assert.deepEqual(s.rejected, [{ code: 'EVENT_TOO_OLD', count: 7 }]);
    assert.deepEqual(s.dropped, [{ code: 'duplicate', count: 1 }]);
  });

  it('gives each vendor its success rate, attempt latency, queue and pause', async () => {
    const m = createMetrics();
    m.pixelBeacons.inc({ vendor: 'dv', outcome: 'delivered', reason: '' }, 3);
    m.pixelBeacons.inc({ vendor: 'dv', outcome: 'failed', reason: 'SINK_PIXEL_HTTP_4XX' }, 1);
    m.pixelBeacons.inc({ vendor: 'dv', outcome: 'suppressed', reason: 'SINK_PIXEL_NO_CONSENT' }, 2);
    for (const seconds of [0.02, 0.02, 0.02, 0.4]) m.pixelAttemptSeconds.observe({ vendor: 'dv' }, seconds);
    const s = buildSnapshot(await sources(m, T0, { vendors: [{ vendor: 'dv', paused: false, queued: 0 }, { vendor: 'ias', paused: true, queued: 12 }] }));
    assert.deepEqual(s.beacons, [
      { vendor: 'dv', delivered: 3, failed: 1, suppressed: 2, successRate: 0.75, meanLatencyMs: 115, p95LatencyMs: 500, queued: 0, paused: false },
      { vendor: 'ias', delivered: 0, failed: 0, suppressed: 0, successRate: null, meanLatencyMs: null, p95LatencyMs: null, queued: 12, paused: true },
    ]);
  });

  it('fills the live panel: cues, cohorts, herd decisions per second, shed by priority, breaks', async () => {
    const m = createMetrics();
    m.liveCues.inc({ source: 'http' });
    m.liveCues.inc({ source: 'topic' });
    m.livePrefetch.inc({ result: 'filled' }, 3);
    m.livePrefetch.inc({ result: 'failed' });
    m.adsDecisions.inc({ kind: 'live', result: 'filled' }, 90);
    m.adsDecisions.inc({ kind: 'vod', result: 'filled' }, 5);
    m.adsShed.inc({ priority: 'vod' }, 4);
    m.adsShed.inc({ priority: 'prefetch' }, 1);
    const breaks: BreakActivity[] = [{ liveEventId: 'final', breakId: 'b1', startsAt: T0, durationMs: 30_000, state: 'ready', cohorts: 4, filledCohorts: 3, herdDecisions: 90, updatedAt: T0 }];
    const first = buildSnapshot(await sources(m, T0, { breaks }));
    m.adsDecisions.inc({ kind: 'live', result: 'empty' }, 30);
    const second = buildSnapshot(await sources(m, T0 + 500, { breaks }), first);
    assert.deepEqual(second.live, {
      cues: { http: 1, topic: 1 },
      prefetchedCohorts: { filled: 3, empty: 0, failed: 1 },
      herdDecisions: 120,
      herdPerSecond: 60,
      shed: [{ code: 'vod', count: 4 }, { code: 'prefetch', count: 1 }],
      breaks,
    });
  });

  it('shows only what the role runs: a collector has no beacons, live panel or pipeline', async () => {
    const m = createMetrics({ role: 'collector' });
    m.eventsOut.inc({ stage: 'collector' }, 3);
    const s = buildSnapshot(
      await sources(m, T0, {
        role: 'collector',
        runs: { collector: true, adsManager: false, pipeline: false },
        vendors: undefined,
        breaks: undefined,
        pipeline: undefined,
        billing: { status: 'unavailable', message: 'no warehouse' },
      }),
    );
    assert.equal(s.beacons, null);
    assert.equal(s.live, null);
    assert.equal(s.pipeline, null);
    assert.deepEqual(s.billing, { status: 'unavailable', message: 'no warehouse' });
    assert.deepEqual(s.stages, [{ stage: 'collector', total: 3, perSecond: 0 }]);
  });
});
