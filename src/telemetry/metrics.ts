/**
 * Prometheus metrics. Every engine has its own registry (so tests and several engines
 * in one process do not collide), with the families every stage reports into:
 * events in and out, drops by reason, dead letters by code, and latency.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metric families shared by all stages. */
export interface Metrics {
  readonly registry: Registry;
  /** Events a stage received. Labels: stage. */
  readonly eventsIn: Counter<'stage'>;
  /** Events a stage passed on. Labels: stage. */
  readonly eventsOut: Counter<'stage'>;
  /** Events deliberately dropped and counted. Labels: stage, reason. */
  readonly dropped: Counter<'stage' | 'reason'>;
  /** Events sent to the dead-letter topic. Labels: stage, code. */
  readonly deadLettered: Counter<'stage' | 'code'>;
  /** Events refused at intake. Labels: code. */
  readonly rejected: Counter<'code'>;
  /** Time a stage spent per event or batch. Labels: stage. */
  readonly stageSeconds: Histogram<'stage'>;
  /** Sink writes that asked for a retry (the partition waited). Labels: sink. */
  readonly sinkRetries: Counter<'sink'>;
  /** HTTP requests. Labels: route, method, status. */
  readonly httpSeconds: Histogram<'route' | 'method' | 'status'>;
  /** Consumer lag per partition. Labels: group, topic, partition. */
  readonly consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  /** Whether each backend answered its last readiness check (1) or not (0). Labels: backend. */
  readonly backendUp: Gauge<'backend'>;
  /** Ads Manager decisions answered. Labels: kind (vod, live), result (filled, empty). */
  readonly adsDecisions: Counter<'kind' | 'result'>;
  /** Ads Manager decision latency. Labels: kind (vod, live). */
  readonly adsDecisionSeconds: Histogram<'kind'>;
  /** Work the Ads Manager shed or deferred under load. Labels: priority (live, vod, prefetch). */
  readonly adsShed: Counter<'priority'>;
  /** Ads Manager cache lookups. Labels: cache (break-plan), result (hit, miss). */
  readonly adsCache: Counter<'cache' | 'result'>;
  /** VAST errors met while deciding, by IAB code and reason code. Labels: code, reason. */
  readonly adsVastErrors: Counter<'code' | 'reason'>;
  /** Ads left out of a pod because the viewer is at a cap. Labels: scope. */
  readonly adsCapped: Counter<'scope'>;
  /** Error URIs fired by the Ads Manager. Labels: outcome (delivered, retry, reject, dropped). */
  readonly adsErrorBeacons: Counter<'outcome'>;
  /** Live break cohorts prefetched. Labels: result (filled, empty, failed). */
  readonly livePrefetch: Counter<'result'>;
  /** Ad break cues received. Labels: source (http: POST /v1/live/cues, topic: read from live.cues). */
  readonly liveCues: Counter<'source'>;
  /** Vendor beacons by final outcome. Labels: vendor (configured name, else other), outcome (delivered, failed, suppressed), reason. */
  readonly pixelBeacons: Counter<'vendor' | 'outcome' | 'reason'>;
  /** Beacon HTTP attempts. Labels: vendor, result (delivered, retry, reject). */
  readonly pixelAttempts: Counter<'vendor' | 'result'>;
  /** Latency of one beacon attempt. Labels: vendor. */
  readonly pixelAttemptSeconds: Histogram<'vendor'>;
  /** Beacons queued in this process. Labels: vendor. */
  readonly pixelQueueDepth: Gauge<'vendor'>;
  /** Circuit state per vendor domain: 0 closed, 1 half-open, 2 open. Labels: vendor. */
  readonly pixelCircuit: Gauge<'vendor'>;
}

/** Creates a registry with process metrics and Quartile's families. */
export function createMetrics(defaultLabels: Record<string, string> = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry, prefix: 'quartile_process_' });
  const registers = [registry];
  return {
    registry,
    eventsIn: new Counter({ name: 'quartile_stage_events_in_total', help: 'Events a stage received.', labelNames: ['stage'], registers }),
    eventsOut: new Counter({ name: 'quartile_stage_events_out_total', help: 'Events a stage passed on.', labelNames: ['stage'], registers }),
    dropped: new Counter({
      name: 'quartile_stage_dropped_total',
      help: 'Events deliberately dropped and counted (duplicate, capped, bot, no consent).',
      labelNames: ['stage', 'reason'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'quartile_stage_dead_lettered_total',
      help: 'Events sent to the dead-letter topic, by reason code.',
      labelNames: ['stage', 'code'],
      registers,
    }),
    rejected: new Counter({ name: 'quartile_collector_rejected_total', help: 'Events refused at intake, by reason code.', labelNames: ['code'], registers }),
    stageSeconds: new Histogram({
      name: 'quartile_stage_duration_seconds',
      help: 'Time a stage spent on an event or batch.',
      labelNames: ['stage'],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    sinkRetries: new Counter({ name: 'quartile_sink_retries_total', help: 'Sink writes that asked for a retry (backpressure).', labelNames: ['sink'], registers }),
    httpSeconds: new Histogram({
      name: 'quartile_http_request_duration_seconds',
      help: 'HTTP request latency.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    consumerLag: new Gauge({
      name: 'quartile_consumer_lag',
      help: 'Records between the group’s committed offset and the end of the partition.',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    }),
    backendUp: new Gauge({ name: 'quartile_backend_up', help: '1 when the backend answered its last check.', labelNames: ['backend'], registers }),
    adsDecisions: new Counter({ name: 'quartile_ads_decisions_total', help: 'Ad decisions answered, by kind and whether any ad was returned.', labelNames: ['kind', 'result'], registers }),
    adsDecisionSeconds: new Histogram({
      name: 'quartile_ads_decision_duration_seconds',
      help: 'Ad decision latency, by kind.',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    adsShed: new Counter({ name: 'quartile_ads_shed_total', help: 'Decisions shed (503) or prefetches deferred under load, by priority.', labelNames: ['priority'], registers }),
    adsCache: new Counter({ name: 'quartile_ads_cache_total', help: 'Ads Manager cache lookups, by cache and result.', labelNames: ['cache', 'result'], registers }),
    adsVastErrors: new Counter({ name: 'quartile_ads_vast_errors_total', help: 'VAST errors met while deciding, by IAB code and reason code.', labelNames: ['code', 'reason'], registers }),
    adsCapped: new Counter({ name: 'quartile_ads_capped_total', help: 'Ads left out of a pod because the viewer is at a frequency cap, by scope.', labelNames: ['scope'], registers }),
    adsErrorBeacons: new Counter({ name: 'quartile_ads_error_beacons_total', help: 'VAST Error URIs fired by the Ads Manager, by outcome.', labelNames: ['outcome'], registers }),
    livePrefetch: new Counter({ name: 'quartile_live_prefetch_total', help: 'Live break cohorts prefetched, by result.', labelNames: ['result'], registers }),
    liveCues: new Counter({ name: 'quartile_live_cues_total', help: 'Ad break cues received, by source (http, topic).', labelNames: ['source'], registers }),
    pixelBeacons: new Counter({
      name: 'quartile_pixel_beacons_total',
      help: 'Vendor beacons by final outcome (delivered, failed, suppressed) and reason code.',
      labelNames: ['vendor', 'outcome', 'reason'],
      registers,
    }),
    pixelAttempts: new Counter({ name: 'quartile_pixel_attempts_total', help: 'Vendor beacon HTTP attempts, by result.', labelNames: ['vendor', 'result'], registers }),
    pixelAttemptSeconds: new Histogram({
      name: 'quartile_pixel_attempt_duration_seconds',
      help: 'Latency of one vendor beacon attempt, redirects included.',
      labelNames: ['vendor'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    }),
    pixelQueueDepth: new Gauge({ name: 'quartile_pixel_queue_depth', help: 'Vendor beacons queued in this process.', labelNames: ['vendor'], registers }),
    pixelCircuit: new Gauge({ name: 'quartile_pixel_circuit_state', help: 'Circuit of a vendor: 0 closed, 1 half-open, 2 open.', labelNames: ['vendor'], registers }),
  };
}
