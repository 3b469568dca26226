/**
 * Reads the metric families the Control Room shows out of the engine's own
 * in-process registry (src/telemetry/metrics.ts): no scrape, no second bookkeeping.
 */
import type { Metrics } from '../telemetry/metrics.ts';

/** One labelled value of a metric family; histograms give one sample per bucket, sum and count. */
export interface MetricSample {
  readonly labels: Readonly<Record<string, string | number | undefined>>;
  readonly value: number;
  /** For histograms: `…_bucket`, `…_sum` or `…_count`. */
  readonly metricName?: string;
}

/** The families the snapshot is built from. */
export interface MetricReadings {
  readonly eventsOut: readonly MetricSample[];
  readonly deadLettered: readonly MetricSample[];
  readonly rejected: readonly MetricSample[];
  readonly dropped: readonly MetricSample[];
  readonly consumerLag: readonly MetricSample[];
  readonly pixelBeacons: readonly MetricSample[];
  readonly pixelAttemptSeconds: readonly MetricSample[];
  readonly adsDecisions: readonly MetricSample[];
  readonly adsShed: readonly MetricSample[];
  readonly livePrefetch: readonly MetricSample[];
  readonly liveCues: readonly MetricSample[];
}

/** Reads the current values of the families the Control Room shows. */
export async function readMetrics(metrics: Metrics): Promise<MetricReadings> {
  const [eventsOut, deadLettered, rejected, dropped, consumerLag, pixelBeacons, pixelAttemptSeconds, adsDecisions, adsShed, livePrefetch, liveCues] = await Promise.all([
    metrics.eventsOut.get(),
    metrics.deadLettered.get(),
    metrics.rejected.get(),
    metrics.dropped.get(),
    metrics.consumerLag.get(),
    metrics.pixelBeacons.get(),
    metrics.pixelAttemptSeconds.get(),
    metrics.adsDecisions.get(),
    metrics.adsShed.get(),
    metrics.livePrefetch.get(),
    metrics.liveCues.get(),
  ]);
  return {
    eventsOut: eventsOut.values,
    deadLettered: deadLettered.values,
    rejected: rejected.values,
    dropped: dropped.values,
    consumerLag: consumerLag.values,
    pixelBeacons: pixelBeacons.values,
    pixelAttemptSeconds: pixelAttemptSeconds.values,
    adsDecisions: adsDecisions.values,
    adsShed: adsShed.values,
    livePrefetch: livePrefetch.values,
    liveCues: liveCues.values,
  };
}
