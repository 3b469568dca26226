/**
 * `npm run bench -- sinks [--impressions N] [--runs N] [--rounds N] [--batch N] [--concurrency N]
 * [--pin] [--only beacons|clickhouse]`: the two sinks of issue 7, on the embedded backends
 * (memory state, embedded log, chDB).
 *
 * `--pin` pins this process (all its threads: GC helpers and chDB included) to CPU 0
 * and the vendor servers to CPU 1 with taskset, so "one core" is literal. Unpinned,
 * the process also uses part of the second core (about 1.25 cores), so its wall-clock
 * rate overstates what one core does; `beaconsPerCpuSec` corrects for that.
 *
 * Beacons: impressions with 3 vendors each (3 impression URIs on 127.0.0.2, .3 and .4,
 * with macros) go through `PixelsSink.write()` in pipeline-sized batches, and the run's
 * clock stops when the vendor servers have answered every beacon; they run in a second
 * process (bench/sinks-vendor.ts, on raw sockets: cheap enough not to be what is measured). `beaconsPerSec` = beacons ÷ that time; it includes
 * the whole path: recording the work on ads.beacons (selection, consent, sealing),
 * beacon delivery taking it back (opening, the ledger claims), macro expansion, the
 * HTTP GETs, and the outcome rows written to beacon_deliveries with the final ledger
 * entries (but the last insert's, see beaconRun; `beaconsRecordedPerSec` has it on the
 * clock too). Interleaved with each run, the
 * HTTP floor: the same number of GETs to the same vendor servers straight through the
 * beacon dispatcher (same headers, same requests in flight and connections per vendor), nothing else.
 * `beaconsVsHttpFloor` = sink ÷ floor (medians); the machine's load moves both alike.
 *
 * ClickHouse: rows/s through `ClickHouseSink.write()` (TabSeparated lines, two inserts
 * with deduplication tokens; no pacing, see bench/warehouse.bench.ts) against the raw
 * insert floor of the same client (`warehouse.insertTabSeparated` of the same lines,
 * prebuilt, no token), interleaved batch by batch in the same run. `clickhouseVsFloor` = floor rows/s ÷ sink rows/s (1.0 = no
 * overhead; the goal is ≤ 1.5).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.ts';
import { openBackends } from '../src/core/backends.ts';
import type { EngineContext } from '../src/core/engine.ts';
import { createMetrics } from '../src/telemetry/metrics.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { RecordCodec } from '../src/transport/avro/record-codec.ts';
import { TOPICS, topicSpecs } from '../src/transport/topics.ts';
import { migrate } from '../src/warehouse/migrate.ts';
import { PipelineEvent, type PipelineOutput } from '../src/pipeline/pipeline-event.ts';
import type { AdMetadata } from '../src/ads/registry/ad-metadata.ts';
import type { EnrichedAdEvent } from '../schemas/types.ts';
import { PixelsSink } from '../sinks/pixels/sink.ts';
import { BeaconDeliverer } from '../sinks/pixels/deliverer.ts';
import { BeaconDispatcher } from '../src/beacons/dispatcher.ts';
import { ClickHouseSink } from '../sinks/clickhouse/sink.ts';
import { AD_EVENTS, BILLABLE_IMPRESSIONS } from '../sinks/clickhouse/rows.ts';
import { CLICKHOUSE_SINK_DEFAULTS } from '../sinks/clickhouse/config.ts';
import { sampleMetadata } from '../test/helpers/metadata.ts';
import { median, profileWindow, round, say, type Figures } from './harness.ts';
import { OperatorAudit } from '../src/http/operator-audit.ts';

function flag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const HASH_KEYS = JSON.stringify([{ kid: 'h1', secret: Buffer.alloc(32, 9).toString('base64url'), createdAt: '2026-01-01' }]);

function enriched(i: number, offset: number): EnrichedAdEvent {
  const now = Date.now();
  return {
    eventId: randomUUID(), eventType: 'impression', playbackSessionId: `bench-${i}`, adInstanceId: `bench-${i}-1`, occurredAt: now, receivedAt: now, processedAt: now, skewMs: 0,
    adPlayheadMs: 0, errorCode: null, metadataId: 'bench-mid', adId: 'ad-1', creativeId: 'cr-1', campaignId: 'cmp-bench', lineItemId: 'li-1', advertiserId: 'adv-1', podSequence: 1,
    pricingModel: 'CPM', priceMicros: 25_000, currency: 'USD', deviceClass: 'ctv', osName: 'Roku', country: 'US', appName: 'bench', appVersion: '1', profileHash: `p${i % 5000}`,
    deviceHash: '', ipHash: '', hashKeyId: 'h1', vendorIds: {}, consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
    live: { liveEventId: 'bench-final', breakId: 'b1' }, source: { topic: TOPICS.raw, partition: i % 6, offset },
  };
}

function output(e: EnrichedAdEvent, metadata: AdMetadata, routes: ReadonlyArray<'pixels' | 'warehouse' | 'billing'>): PipelineOutput {
  const offset = String(e.source.offset);
  const event = new PipelineEvent({
    record: { topic: TOPICS.raw, partition: e.source.partition, offset, key: Buffer.from(e.playbackSessionId), value: Buffer.alloc(600, 1), timestamp: 0, headers: {} },
    originTopic: TOPICS.raw,
    originPartition: e.source.partition,
    originOffset: offset,
  });
  event.enriched = e;
  event.metadata = metadata;
  event.inFlight = { ip: '198.51.100.23', userAgent: 'Roku/DVP-12.0 (12.0.0.4182)', ifa: randomUUID(), ifaType: 'rida' };
  event.routes = new Set(routes);
  return { kind: 'event', event };
}

async function startVendors(pin: boolean): Promise<{ ports: number[]; stop: () => Promise<number> }> {
  const file = fileURLToPath(new URL('./sinks-vendor.ts', import.meta.url));
  const node = [process.execPath, '--import', 'tsx', file];
  const [command, ...argv] = pin ? ['taskset', '-c', '1', ...node] : node;
  const child = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const ports = (JSON.parse(String(first.value)) as { ports: number[] }).ports;
  return {
    ports,
    stop: async () => {
      child.kill('SIGTERM');
      const last = await iterator.next();
      return last.done === true ? -1 : (JSON.parse(String(last.value)) as { hits: number }).hits;
    },
  };
}

async function context(dataDir: string, pixels: Record<string, unknown>): Promise<EngineContext> {
  const config = loadConfig({ env: { QUARTILE_DATA_DIR: dataDir, QUARTILE_LOG_LEVEL: 'silent' }, overrides: { pipeline: { hashKeys: HASH_KEYS }, pixels } });
  const logger = silentLogger();
  const backends = await openBackends(config, logger, { eagerWarehouse: true });
  await backends.transport.ensureTopics(topicSpecs(config.kafka));
  await migrate(backends.warehouse);
  return { config, role: 'pipeline', logger, metrics: createMetrics(), backends, codec: new RecordCodec({ registry: config.schemaRegistry }), audit: new OperatorAudit(logger) };
}

/** What one beacon run measured. */
interface BeaconRun {
  /** Beacons per second of wall-clock time, to the vendors' last answer. */
  readonly rate: number;
  /** Beacons per second of CPU time of this process (all its threads): what one core sustains. */
  readonly perCpuSecond: number;
  /** Beacons per second of wall-clock time to the last outcome row and ledger entry written. */
  readonly recordedRate: number;
}

/** Beacons delivered and recorded so far, by the metric delivery counts them in once their rows are written. */
async function deliveredSoFar(ctx: EngineContext): Promise<number> {
  const delivered = await ctx.metrics.pixelBeacons.get();
  return delivered.values.filter((v) => v.labels['outcome'] === 'delivered').reduce((n, v) => n + v.value, 0);
}

/** Attempts answered so far (or failed), by the histogram each attempt is observed in as it ends. */
async function answeredSoFar(ctx: EngineContext): Promise<number> {
  const attempts = await ctx.metrics.pixelAttemptSeconds.get();
  return attempts.values.filter((v) => v.metricName?.endsWith('_count') === true).reduce((n, v) => n + v.value, 0);
}

/**
 * One beacon run: `impressions` × 3 beacons through write() until every GET is answered.
 * Its clock stops at the last answer. The outcome rows of the last `pixels.outcomeFlushMs`
 * (1 s) are written after it: that wait is the outcome writer's linger, a latency that
 * a longer run does not pay more of (at 250 ms it already put up to 4% of a run's time
 * on the clock, with the core idle). The run waits for them all the same, and reports the rate to that
 * point as well (`recordedRate`); every row before them is on the clock and the CPU.
 */
async function beaconRun(ctx: EngineContext, sink: PixelsSink, metadata: AdMetadata, impressions: number, batch: number, run: number, label = `run ${run}`): Promise<BeaconRun> {
  const outputs = Array.from({ length: impressions }, (_, i) => output(enriched(i, run * 1_000_000 + i), metadata, ['pixels']));
  const target = (await deliveredSoFar(ctx)) + impressions * 3;
  const answersDue = (await answeredSoFar(ctx)) + impressions * 3;
  const stopProfile = await profileWindow(`sinks-beacons-${label}`);
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < outputs.length; i += batch) {
    const slice = outputs.slice(i, i + batch);
    for (;;) {
      const outcome = await sink.write(slice);
      if (outcome.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 5)); // backpressure: the runtime would wait too
    }
  }
  while ((await answeredSoFar(ctx)) < answersDue) await new Promise((r) => setTimeout(r, 2));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  while ((await deliveredSoFar(ctx)) < target) await new Promise((r) => setTimeout(r, 2));
  const recordedSeconds = (performance.now() - started) / 1000;
  await stopProfile();
  const rate = (impressions * 3) / seconds;
  const perCpuSecond = (impressions * 3) / cpuSeconds;
  const recordedRate = (impressions * 3) / recordedSeconds;
  say(
    `  ${label}: ${impressions * 3} beacons answered in ${seconds.toFixed(2)} s = ${Math.round(rate)} beacons/s; ${cpuSeconds.toFixed(2)} CPU s = ${Math.round(perCpuSecond)} beacons per CPU second;` +
      ` recorded in ${recordedSeconds.toFixed(2)} s = ${Math.round(recordedRate)}/s (delivered so far: ${await deliveredSoFar(ctx)})`,
  );
  return { rate, perCpuSecond, recordedRate };
}

/** How the beacon runs are set up. */
interface BeaconSetup {
  readonly impressions: number;
  readonly batch: number;
  readonly runs: number;
  readonly pin: boolean;
  readonly hosts: readonly string[];
  readonly ports: readonly number[];
}

/**
 * The sink against the HTTP floor, interleaved. Each side gets one warm-up run first
 * (connections, JIT, the first chDB parts), not counted: the median of the rest is.
 */
async function beaconFigures(ctx: EngineContext, metadata: AdMetadata, setup: BeaconSetup): Promise<Figures> {
  const { impressions, batch, pin, hosts, ports } = setup;
  say(`beacons: ${impressions} impressions × 3 vendors, batches of ${batch}, vendor servers in a child process${pin ? '; this process pinned to CPU 0, the vendors to CPU 1' : ''}`);
  const runs: BeaconRun[] = [];
  const floors: number[] = [];
  // The floor keeps the sink's limits: as many requests in flight per vendor, and as many connections.
  const concurrency = ctx.config.pixels.concurrencyPerDomain;
  const dispatcher = new BeaconDispatcher({ allowPrivateNetwork: true, connectionsPerOrigin: () => concurrency });
  const request = { device: { ip: '198.51.100.23', userAgent: 'Roku/DVP-12.0 (12.0.0.4182)' } };
  // As delivery sends them (BeaconDispatcher.send, no promise per GET), each answer sending the next.
  const floorRun = (): Promise<number> =>
    new Promise((resolve) => {
      const n = impressions * 3;
      let next = 0;
      let answered = 0;
      const t0 = performance.now();
      const sendNext = (): void => {
        const i = next++;
        dispatcher.send(`http://${hosts[i % 3]}:${ports[i % 3]}/imp?cb=${i}`, request, onAnswer, undefined);
      };
      // Not from inside undici's response callback: on the microtask queue, as an awaiting caller would.
      const onAnswer = (): void => {
        answered++;
        if (next < n) queueMicrotask(sendNext);
        else if (answered === n) {
          const rate = n / ((performance.now() - t0) / 1000);
          say(`  http floor: ${n} GETs = ${Math.round(rate)}/s`);
          resolve(rate);
        }
      };
      for (let k = 0; k < concurrency * 3 && next < n; k++) sendNext();
    });
  const sink = new PixelsSink(ctx, { deliveryGroupId: 'bench-pixels' });
  const delivery = new BeaconDeliverer(ctx, { groupId: 'bench-pixels' });
  await delivery.start();
  try {
    await floorRun(); // warm-up
    await beaconRun(ctx, sink, metadata, impressions, batch, 0, 'warm-up');
    for (let run = 1; run <= setup.runs; run++) {
      floors.push(await floorRun());
      runs.push(await beaconRun(ctx, sink, metadata, impressions, batch, run));
    }
  } finally {
    await delivery.stop();
    await sink.close();
    await dispatcher.close();
  }
  const beaconsPerSec = median(runs.map((r) => r.rate));
  const beaconsPerCpuSec = median(runs.map((r) => r.perCpuSecond));
  const httpFloorPerSec = median(floors);
  return {
    beaconsPerSec: Math.round(beaconsPerSec),
    beaconRuns: runs.map((r) => Math.round(r.rate)).join(' '),
    beaconsPerCpuSec: Math.round(beaconsPerCpuSec),
    beaconCpuRuns: runs.map((r) => Math.round(r.perCpuSecond)).join(' '),
    beaconsRecordedPerSec: Math.round(median(runs.map((r) => r.recordedRate))),
    httpFloorPerSec: Math.round(httpFloorPerSec),
    beaconsVsHttpFloor: round(beaconsPerSec / httpFloorPerSec, 3),
  };
}

/** The ClickHouse sink against the raw insert of the same rows, interleaved batch by batch. */
async function clickhouseFigures(ctx: EngineContext, metadata: AdMetadata, rounds: number): Promise<Figures> {
  const warehouse = ctx.backends.warehouse;
  // No pacing: one write at a time would wait out the interval each time, and the
  // interval is not what this compares (bench/warehouse.bench.ts measures it).
  const sink = new ClickHouseSink(warehouse, { ...CLICKHOUSE_SINK_DEFAULTS, batch: { ...CLICKHOUSE_SINK_DEFAULTS.batch, lingerMs: 0 } });
  const chBatch = 1000;
  let offset = 10_000_000;
  const next = (): PipelineOutput[] => Array.from({ length: chBatch }, (_, i) => output(enriched(i, offset++), metadata, ['warehouse', 'billing']));
  const sinkTimes: number[] = [];
  const floorTimes: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const forSink = next();
    const forFloor = next().map((o) => (o.kind === 'event' ? o.event.enriched! : null)).filter((e): e is EnrichedAdEvent => e !== null);
    const events = forFloor.map((e) => AD_EVENTS.line(e)).join('');
    const billing = forFloor.map((e) => BILLABLE_IMPRESSIONS.line(e)).join('');
    const order = r % 2 === 0 ? ['sink', 'floor'] : ['floor', 'sink'];
    for (const who of order) {
      const t0 = performance.now();
      if (who === 'sink') {
        const outcome = await sink.write(forSink);
        if (outcome.status !== 'delivered') throw new Error(`ClickHouse sink: ${JSON.stringify(outcome)}`);
      } else {
        await warehouse.insertTabSeparated('ad_events', AD_EVENTS.columns, events);
        await warehouse.insertTabSeparated('billable_impressions', BILLABLE_IMPRESSIONS.columns, billing);
      }
      const ms = performance.now() - t0;
      if (r > 0) (who === 'sink' ? sinkTimes : floorTimes).push(ms); // round 0 warms up
    }
  }
  const rowsPerCall = chBatch * 2;
  const sinkRowsPerSec = (rowsPerCall * 1000) / median(sinkTimes);
  const floorRowsPerSec = (rowsPerCall * 1000) / median(floorTimes);
  const clickhouseVsFloor = floorRowsPerSec / sinkRowsPerSec;
  say(`clickhouse: sink ${Math.round(sinkRowsPerSec)} rows/s, raw insert floor ${Math.round(floorRowsPerSec)} rows/s (median of ${rounds} interleaved batches of ${rowsPerCall} rows) → ${clickhouseVsFloor.toFixed(2)}×`);
  return {
    clickhouseSinkRowsPerSec: Math.round(sinkRowsPerSec),
    clickhouseFloorRowsPerSec: Math.round(floorRowsPerSec),
    clickhouseVsFloor: round(clickhouseVsFloor, 3),
  };
}

export default async function sinks(args: readonly string[]): Promise<Figures> {
  // 30 000 impressions (90 000 beacons, ~5 s a run): long enough for a sustained rate.
  const impressions = flag(args, '--impressions', 30_000);
  const rounds = flag(args, '--rounds', 8);
  const batch = flag(args, '--batch', 500);
  const beaconRuns = flag(args, '--runs', 5);
  const pin = args.includes('--pin');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  if (only !== undefined && only !== 'beacons' && only !== 'clickhouse') throw new Error(`--only takes beacons or clickhouse, not ${only}`);
  // Before the vendor servers start, so their process does not inherit CPU 0.
  if (pin) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const dataDir = mkdtempSync(join(tmpdir(), 'quartile-bench-sinks-'));
  const vendors = await startVendors(pin);
  const hosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const ctx = await context(dataDir, {
    allowPrivateNetwork: true,
    vendors: { '127.0.0.2': { name: 'dv', gvlId: 126 }, '127.0.0.3': { name: 'ias', gvlId: 278 }, '127.0.0.4': { name: 'nielsen', gvlId: null } },
    // The sink is measured, not a vendor's contract: no TPS cap (the default, 5000/s per
    // domain, would cap three vendors at 15 000/s by itself), and enough requests in
    // flight to cover the loopback round trip (the default 32 is sized for politeness).
    concurrencyPerDomain: flag(args, '--concurrency', 64),
    tpsPerDomain: 1_000_000,
  });
  try {
    const metadata = sampleMetadata({
      impressionUris: hosts.map((h, i) => `http://${h}:${vendors.ports[i]}/imp?ifa=[IFA]&ua=[DEVICEUA]&cb=[CACHEBUSTING]&ts=[TIMESTAMP]&ss=[SERVERSIDE]&gdpr=[GDPRCONSENT]`),
      vendors: hosts,
    });
    // ClickHouse first: after a million beacons, chDB is still merging their outcome rows
    // in the background, on this same core, and that would be measured as the sink's.
    const clickhouse = only === 'beacons' ? {} : await clickhouseFigures(ctx, metadata, rounds);
    const beacons = only === 'clickhouse' ? {} : await beaconFigures(ctx, metadata, { impressions, batch, runs: beaconRuns, pin, hosts, ports: vendors.ports });
    const hits = await vendors.stop();
    const fired = only === 'clickhouse' ? 0 : impressions * 3 * (2 * beaconRuns + 2);
    say(`  vendor servers counted ${hits} hits (expected ${fired})`);
    if (hits !== fired) throw new Error(`The vendor servers counted ${hits} hits, not ${fired}: a beacon was lost or fired twice.`);
    return { ...beacons, ...clickhouse, pinned: pin };
  } finally {
    await ctx.backends.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
