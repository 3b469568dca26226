/**
 * The Control Room snapshot: what the operator page shows, built from the engine's
 * metric readings and what its components report. Rates come from the previous
 * snapshot, so the builder itself holds no state.
 *
 * Only names, codes, counts and campaign or break ids go in: never a device id, an
 * IP or a user agent (the metric labels carry none, and nothing else is read).
 */
import type { Role } from '../core/roles.ts';
import type { OperatorAction } from '../http/operator-audit.ts';
import type { BreakActivity } from '../live/live-activity.ts';
import type { VendorBeaconState } from '../pipeline/admin-routes.ts';
import type { PipelinePhase } from '../pipeline/pipeline-component.ts';
import type { BillingView } from './billing-totals.ts';
import type { MetricReadings, MetricSample } from './metric-readings.ts';

/** Events a stage passed on: in total, and per second since the previous snapshot. */
export interface StageThroughput {
  readonly stage: string;
  readonly total: number;
  readonly perSecond: number;
}

/** Records behind on one partition. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

/** A count for one reason code (or drop reason, or priority). */
export interface CodeCount {
  readonly code: string;
  readonly count: number;
}

/** Beacons of one vendor: outcomes, attempt latency, and its queue here. */
export interface VendorBeacons {
  readonly vendor: string;
  readonly delivered: number;
  readonly failed: number;
  readonly suppressed: number;
  /** delivered / (delivered + failed); null before any final outcome. */
  readonly successRate: number | null;
  /** Mean and 95th percentile (bucket upper bound) of one attempt; null before any attempt. */
  readonly meanLatencyMs: number | null;
  readonly p95LatencyMs: number | null;
  readonly queued: number;
  readonly paused: boolean;
}

/** The live event panel. */
export interface LivePanel {
  readonly cues: { readonly http: number; readonly topic: number };
  readonly prefetchedCohorts: { readonly filled: number; readonly empty: number; readonly failed: number };
  readonly herdDecisions: number;
  readonly herdPerSecond: number;
  /** Decisions shed and prefetches deferred under load, by priority (live, vod, prefetch). */
  readonly shed: readonly CodeCount[];
  readonly breaks: readonly BreakActivity[];
}

/** Everything the page shows at one moment. */
export interface ControlRoomSnapshot {
  readonly at: number;
  readonly role: Role;
  readonly runs: { readonly collector: boolean; readonly adsManager: boolean; readonly pipeline: boolean };
  readonly stages: readonly StageThroughput[];
  readonly lag: readonly PartitionLag[];
  readonly deadLetters: readonly CodeCount[];
  readonly rejected: readonly CodeCount[];
  readonly dropped: readonly CodeCount[];
  /** null where this process runs no vendor beacons. */
  readonly beacons: readonly VendorBeacons[] | null;
  readonly billing: BillingView;
  /** null where this process runs no Ads Manager. */
  readonly live: LivePanel | null;
  /** null where this process runs no pipeline. */
  readonly pipeline: { readonly state: PipelinePhase } | null;
  readonly actions: readonly OperatorAction[];
}

/** What one snapshot is built from. */
export interface SnapshotSources {
  readonly at: number;
  readonly role: Role;
  readonly runs: ControlRoomSnapshot['runs'];
  readonly metrics: MetricReadings;
  /** Vendor pauses and queues of this process's pixels sink; undefined without one. */
  readonly vendors: readonly VendorBeaconState[] | undefined;
  readonly billing: BillingView;
  /** Recent breaks of this process's Ads Manager; undefined without one. */
  readonly breaks: readonly BreakActivity[] | undefined;
  readonly pipeline: PipelinePhase | undefined;
  readonly actions: readonly OperatorAction[];
}

/** Pipeline steps in the order events flow through them; sinks and others follow. */
const STAGE_ORDER = ['collector', 'decode', 'decrypt', 'resolve', 'enrich', 'hash', 'dedupe', 'sessionize', 'frequency-cap', 'route'];

function label(sample: MetricSample, name: string): string {
  return String(sample.labels[name] ?? '');
}

/** Sums `samples` per value of label `by`, largest first, zero counts left out. */
function sumBy(samples: readonly MetricSample[], by: string): CodeCount[] {
  const sums = new Map<string, number>();
  for (const s of samples) sums.set(label(s, by), (sums.get(label(s, by)) ?? 0) + s.value);
  return [...sums].filter(([, count]) => count > 0).map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

function stageRank(stage: string): number {
  const i = STAGE_ORDER.indexOf(stage);
  if (i >= 0) return i;
  return stage.startsWith('sinks/') ? STAGE_ORDER.length : STAGE_ORDER.length + 1;
}

function perSecond(total: number, previousTotal: number | undefined, elapsedMs: number | undefined): number {
  if (previousTotal === undefined || elapsedMs === undefined || elapsedMs <= 0) return 0;
  return Math.max(0, ((total - previousTotal) * 1000) / elapsedMs);
}

function stages(readings: MetricReadings, previous: ControlRoomSnapshot | undefined, elapsedMs: number | undefined): StageThroughput[] {
  const before = new Map((previous?.stages ?? []).map((s) => [s.stage, s.total]));
  return sumBy(readings.eventsOut, 'stage')
    .map(({ code: stage, count: total }) => ({ stage, total, perSecond: perSecond(total, before.get(stage), elapsedMs) }))
    .sort((a, b) => stageRank(a.stage) - stageRank(b.stage) || a.stage.localeCompare(b.stage));
}

/** Attempt latency per vendor from the histogram: mean, and the bucket holding the 95th percentile. */
function latencies(samples: readonly MetricSample[]): Map<string, { mean: number | null; p95: number | null }> {
  const byVendor = new Map<string, { sum: number; count: number; buckets: Array<{ le: number; n: number }> }>();
  for (const s of samples) {
    const vendor = label(s, 'vendor');
    let v = byVendor.get(vendor);
    if (v === undefined) byVendor.set(vendor, (v = { sum: 0, count: 0, buckets: [] }));
    if (s.metricName?.endsWith('_sum')) v.sum = s.value;
    else if (s.metricName?.endsWith('_count')) v.count = s.value;
    else if (s.metricName?.endsWith('_bucket')) v.buckets.push({ le: Number(s.labels['le'] === '+Inf' ? Infinity : s.labels['le']), n: s.value });
  }
  const out = new Map<string, { mean: number | null; p95: number | null }>();
  for (const [vendor, v] of byVendor) {
    if (v.count === 0) {
      out.set(vendor, { mean: null, p95: null });
      continue;
    }
    const p95 = v.buckets.sort((a, b) => a.le - b.le).find((b) => b.n >= 0.95 * v.count)?.le ?? Infinity;
    out.set(vendor, { mean: (v.sum / v.count) * 1000, p95: Number.isFinite(p95) ? p95 * 1000 : null });
  }
  return out;
}

function beacons(readings: MetricReadings, vendors: readonly VendorBeaconState[]): VendorBeacons[] {
  const outcomes = new Map<string, { delivered: number; failed: number; suppressed: number }>();
  for (const s of readings.pixelBeacons) {
    const vendor = label(s, 'vendor');
    const o = outcomes.get(vendor) ?? { delivered: 0, failed: 0, suppressed: 0 };
    const outcome = label(s, 'outcome');
    if (outcome === 'delivered' || outcome === 'failed' || outcome === 'suppressed') o[outcome] += s.value;
    outcomes.set(vendor, o);
  }
  const latency = latencies(readings.pixelAttemptSeconds);
  const state = new Map(vendors.map((v) => [v.vendor, v]));
  const names = [...new Set([...outcomes.keys(), ...latency.keys(), ...state.keys()])].sort();
  return names.map((vendor) => {
    const o = outcomes.get(vendor) ?? { delivered: 0, failed: 0, suppressed: 0 };
    const final = o.delivered + o.failed;
    const l = latency.get(vendor);
    return {
      vendor,
      ...o,
      successRate: final === 0 ? null : o.delivered / final,
      meanLatencyMs: l?.mean ?? null,
      p95LatencyMs: l?.p95 ?? null,
      queued: state.get(vendor)?.queued ?? 0,
      paused: state.get(vendor)?.paused ?? false,
    };
  });
}

function live(readings: MetricReadings, breaks: readonly BreakActivity[], previous: ControlRoomSnapshot | undefined, elapsedMs: number | undefined): LivePanel {
  const cues = new Map(sumBy(readings.liveCues, 'source').map((c) => [c.code, c.count]));
  const prefetch = new Map(sumBy(readings.livePrefetch, 'result').map((c) => [c.code, c.count]));
  const herdDecisions = readings.adsDecisions.filter((s) => label(s, 'kind') === 'live').reduce((sum, s) => sum + s.value, 0);
  return {
    cues: { http: cues.get('http') ?? 0, topic: cues.get('topic') ?? 0 },
    prefetchedCohorts: { filled: prefetch.get('filled') ?? 0, empty: prefetch.get('empty') ?? 0, failed: prefetch.get('failed') ?? 0 },
    herdDecisions,
    herdPerSecond: perSecond(herdDecisions, previous?.live?.herdDecisions, elapsedMs),
    shed: sumBy(readings.adsShed, 'priority'),
    breaks,
  };
}

/** Builds the snapshot; `previous` (the last one sent) gives the rates. */
export function buildSnapshot(sources: SnapshotSources, previous?: ControlRoomSnapshot): ControlRoomSnapshot {
  const m = sources.metrics;
  const elapsedMs = previous === undefined ? undefined : sources.at - previous.at;
  return {
    at: sources.at,
    role: sources.role,
    runs: sources.runs,
    stages: stages(m, previous, elapsedMs),
    lag: m.consumerLag
      .map((s) => ({ topic: label(s, 'topic'), partition: Number(label(s, 'partition')), lag: s.value }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    deadLetters: sumBy(m.deadLettered, 'code'),
    rejected: sumBy(m.rejected, 'code'),
    dropped: sumBy(m.dropped, 'reason'),
    beacons: sources.vendors === undefined ? null : beacons(m, sources.vendors),
    billing: sources.billing,
    live: sources.breaks === undefined ? null : live(m, sources.breaks, previous, elapsedMs),
    pipeline: sources.pipeline === undefined ? null : { state: sources.pipeline },
    actions: sources.actions,
  };
}
