/**
 * `npm run bench -- pipeline [--events N]`: events/s through every processor into the
 * Kafka sinks, on the embedded backends and (when QUARTILE_KAFKA_BROKERS and
 * QUARTILE_REDIS_URL are set) on real Kafka and Redis, with the token cache warm (a
 * live break: every viewer shares the pod's tokens) and cold (a token per ad play).
 *
 * The floor, measured in the same run on the same events: the per-event CPU work
 * alone, without I/O — Avro decode, token decrypt (uncached), the HMACs, and the
 * enriched record's Avro encode. `overheadVsFloor` = floor events/s ÷ pipeline
 * events/s (embedded, warm): what the runtime, the state calls and the sinks add.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deleteRedisPrefix } from '../test/helpers/services.ts';
import { loadConfig } from '../src/config/load.ts';
import { openBackends } from '../src/core/backends.ts';
import type { EngineContext } from '../src/core/engine.ts';
import { createMetrics } from '../src/telemetry/metrics.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { RecordCodec } from '../src/transport/avro/record-codec.ts';
import { TOPICS, topicSpecs } from '../src/transport/topics.ts';
import { PipelineComponent } from '../src/pipeline/pipeline-component.ts';
import { migrate } from '../src/warehouse/migrate.ts';
import { MetadataRegistry } from '../src/ads/registry/metadata-registry.ts';
import { TokenKeyring, generateJwk } from '../src/ads/tokens/keyring.ts';
import { TokenService } from '../src/ads/tokens/token-service.ts';
import type { AdEvent, EventType } from '../schemas/types.ts';
import { profileWindow, round, say, type Figures } from './harness.ts';
import { sampleMetadata } from '../test/helpers/metadata.ts';
import { metadataIdOf, type AdMetadata } from '../src/ads/registry/ad-metadata.ts';
import { OperatorAudit } from '../src/http/operator-audit.ts';

const JOURNEY: readonly EventType[] = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'];
export const JWKS = JSON.stringify({ keys: [generateJwk('b1')] });
const HASH_KEYS = JSON.stringify([{ kid: 'h1', secret: Buffer.alloc(32, 9).toString('base64url'), createdAt: '2026-01-01' }]);

function flag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** Raw events: ad plays of 6 events, spread over sessions; `distinctTokens` tokens in all. */
export async function makeEvents(count: number, tokens: readonly string[]): Promise<AdEvent[]> {
  const now = Date.now();
  const events: AdEvent[] = [];
  for (let play = 0; events.length < count; play++) {
    const session = `bench-${randomUUID()}`;
    const token = tokens[play % tokens.length]!;
    for (const [i, eventType] of JOURNEY.entries()) {
      if (events.length >= count) break;
      events.push({
        eventId: randomUUID(),
        eventType,
        token,
        playbackSessionId: session,
        adInstanceId: `${session}-1`,
        occurredAt: now + i * 3750,
        receivedAt: now + i * 3750 + 120,
        adPlayheadMs: i * 3750,
        errorCode: null,
        device: { ip: `203.0.113.${play % 250}`, userAgent: 'Roku/DVP-12.0 (12.0.0.4182)', ifa: null, ifaType: null, deviceId: `dev-${play}`, profileId: `prof-${play}` },
        consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
        live: { liveEventId: 'bench-final', breakId: 'b1' },
        country: 'US',
        app: { name: 'bench', version: '1' },
        producer: null,
      });
    }
  }
  return events;
}

interface Run {
  readonly eventsPerSec: number;
  /** Events per CPU-second of this process (all its threads) over the same window: what one core sustains, less moved by the machine's load. */
  readonly eventsPerCpuSec: number;
  readonly seconds: number;
}

export async function runPipeline(env: Record<string, string>, events: readonly AdEvent[], label: string, metadata: readonly AdMetadata[]): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quartile-bench-'));
  const config = loadConfig({
    env: { ...env, QUARTILE_DATA_DIR: dataDir, QUARTILE_LOG_LEVEL: 'silent' },
    // Issue 6 measures the processors into the Kafka sinks: no vendor beacons here
    // (the sinks benchmark measures those).
    overrides: {
      tokens: { jwks: JWKS },
      pipeline: { hashKeys: HASH_KEYS },
      // Topics of its own: a new consumer group reads its raw topic from the start.
      kafka: { partitions: 6, topicPrefix: `bench-${randomUUID().slice(0, 8)}.` },
      pixels: { enabled: false },
    },
  });
  const logger = silentLogger();
  const backends = await openBackends(config, logger, { eagerWarehouse: false });
  const codec = new RecordCodec({ registry: config.schemaRegistry });
  const ctx: EngineContext = { config, role: 'pipeline', logger, metrics: createMetrics(), backends, codec, audit: new OperatorAudit(logger) };
  const topics = topicSpecs(config.kafka);
  await backends.transport.ensureTopics(topics);
  await migrate(backends.warehouse);
  if (codec.framing === 'confluent') await codec.registerAll();
  try {
    // Produce everything first, so the run measures the pipeline, not the producer.
    const values = await codec.encodeMany(TOPICS.raw, events);
    for (let i = 0; i < events.length; i += 2000) {
      await backends.transport.send(TOPICS.raw, events.slice(i, i + 2000).map((e, j) => ({ key: e.playbackSessionId, value: values[i + j]! })));
    }
    // The registry entries the tokens point at (the Ads Manager's job in production).
    const registry = new MetadataRegistry(backends.state);
    for (const m of metadata) await registry.put(m);
    const groupId = `bench-${randomUUID()}`;
    // Issue 6 measures the processors into the Kafka sinks; ClickHouse is the sinks benchmark's.
    const pipeline = new PipelineComponent(ctx, {}, { groupId, warehouse: false });
    // Joining a Kafka consumer group takes seconds; measure the steady state from the
    // first processed batch to the last commit, and report the start-up apart.
    const decoded = async (): Promise<number> => (await ctx.metrics.eventsIn.get()).values.find((v) => v.labels['stage'] === 'decode')?.value ?? 0;
    const joinStarted = performance.now();
    await pipeline.start();
    let atStart = 0;
    while ((atStart = await decoded()) === 0) await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const stopProfile = await profileWindow(`pipeline ${label}`);
    const startupSeconds = (started - joinStarted) / 1000;
    let lag = Number.POSITIVE_INFINITY;
    while (lag > 0) {
      await new Promise((r) => setTimeout(r, 50));
      // kafkajs's offset look-up fails now and then under load; just ask again.
      lag = await backends.transport.lag(groupId, TOPICS.raw).then((parts) => parts.reduce((n, p) => n + p.lag, 0), () => lag);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    await stopProfile();
    // Where the time went, per stage (summed over the partitions that ran concurrently).
    const histogram = await ctx.metrics.stageSeconds.get();
    const sums = histogram.values.filter((v) => v.metricName?.endsWith('_sum')).map((v) => `${String(v.labels['stage'])}=${v.value.toFixed(2)}s`);
    say(`  stage time: ${sums.join(' ')}`);
    await pipeline.stop();
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const run = { eventsPerSec: (events.length - atStart) / seconds, eventsPerCpuSec: (events.length - atStart) / cpuSeconds, seconds };
    say(
      `${label.padEnd(28)} ${String(Math.round(run.eventsPerSec)).padStart(8)} events/s, ${Math.round(run.eventsPerCpuSec)} per CPU-second  ` +
        `(${events.length} events; steady state ${seconds.toFixed(2)} s after a ${startupSeconds.toFixed(2)} s start-up)`,
    );
    return run;
  } finally {
    await backends.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The per-event CPU floor: decode, decrypt (uncached), the HMACs and the enriched encode. */
function floor(events: readonly AdEvent[], encoded: readonly Buffer[], tokens: TokenService, enrichedCodec: RecordCodec): number {
  const key = Buffer.alloc(32, 9);
  const enrichedType = enrichedCodec.catalog.current('EnrichedAdEvent').type;
  const rawType = enrichedCodec.catalog.current('AdEvent').type;
  const sample = {
    eventId: '', eventType: 'impression', playbackSessionId: '', adInstanceId: '', occurredAt: 0, receivedAt: 0, processedAt: 0, skewMs: 0,
    adPlayheadMs: null, errorCode: null, metadataId: 'm', adId: 'a', creativeId: 'c', campaignId: 'k', lineItemId: '', advertiserId: '', podSequence: 1,
    pricingModel: 'CPM', priceMicros: 0, currency: 'USD', deviceClass: 'ctv', osName: '', country: 'US', appName: '', appVersion: '', profileHash: '',
    deviceHash: '', ipHash: '', hashKeyId: 'h1', vendorIds: {}, consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
    live: null, source: { topic: 't', partition: 0, offset: 0 },
  };
  const start = performance.now();
  for (let i = 0; i < events.length; i++) {
    const raw = rawType.fromBuffer(encoded[i]!.subarray(10)) as AdEvent;
    tokens.decrypt(raw.token);
    const h = (v: string) => createHmac('sha256', key).update(v).digest().subarray(0, 16).toString('base64url');
    enrichedType.toBuffer({ ...sample, eventId: raw.eventId, profileHash: h(raw.device.profileId ?? ''), deviceHash: h(raw.device.deviceId ?? ''), ipHash: h(raw.device.ip ?? '') });
  }
  return events.length / ((performance.now() - start) / 1000);
}

export default async function pipelineBench(args: readonly string[]): Promise<Figures> {
  const count = flag(args, '--events', 60_000);
  const tokens = new TokenService(TokenKeyring.fromJwks(JWKS), { ttlSeconds: 3600, binding: 'none' });
  const env = process.env;
  const real = env['QUARTILE_KAFKA_BROKERS'] !== undefined && env['QUARTILE_REDIS_URL'] !== undefined;

  // Registry entries live in the state seam of each run; tokens only name them, so
  // the same tokens work everywhere once each run has put its entries.
  const metadata = Array.from({ length: 3 }, (_, i) => sampleMetadata({ adId: `ad-${i}`, campaignId: `cmp-${i}` }));
  const warmTokens = await Promise.all(metadata.map((m, i) => tokens.mint({ mid: metadataIdOf(m), ad: m.adId, cr: m.creativeId, cmp: m.campaignId, seq: i + 1, brk: 'b1' })));
  const coldCount = Math.ceil(count / JOURNEY.length / 4);
  say(`minting ${coldCount} tokens for the cold-cache run…`);
  const coldTokens = await Promise.all(Array.from({ length: coldCount }, (_, i) => tokens.mint({ mid: metadataIdOf(metadata[i % 3]!), ad: `ad-${i}`, cr: 'c', cmp: 'k', seq: 1, brk: 'b1' })));
  const warm = await makeEvents(count, warmTokens);
  const cold = await makeEvents(count, coldTokens);

  const floorCodec = new RecordCodec();
  const encoded = await floorCodec.encodeMany(TOPICS.raw, warm);
  const floorRate = Math.max(floor(warm.slice(0, 20_000), encoded, tokens, floorCodec), floor(warm.slice(0, 20_000), encoded, tokens, floorCodec));
  say(`${'CPU floor (no I/O)'.padEnd(28)} ${String(Math.round(floorRate)).padStart(8)} events/s`);

  const embeddedEnv = {};
  const embeddedWarm = await runPipeline(embeddedEnv, warm, 'embedded, warm token cache', metadata);
  const embeddedCold = await runPipeline(embeddedEnv, cold, 'embedded, cold token cache', metadata);
  let kafkaWarm: Run | undefined;
  let kafkaCold: Run | undefined;
  if (real) {
    const realEnv = {
      QUARTILE_KAFKA_BROKERS: env['QUARTILE_KAFKA_BROKERS']!,
      QUARTILE_REDIS_URL: env['QUARTILE_REDIS_URL']!,
      ...(env['QUARTILE_SCHEMA_REGISTRY_URL'] === undefined ? {} : { QUARTILE_SCHEMA_REGISTRY_URL: env['QUARTILE_SCHEMA_REGISTRY_URL'] }),
      QUARTILE_REDIS_KEY_PREFIX: `bench-${randomUUID()}:`,
    };
    try {
      kafkaWarm = await runPipeline(realEnv, warm, 'kafka+redis, warm token cache', metadata);
      kafkaCold = await runPipeline(realEnv, cold, 'kafka+redis, cold token cache', metadata);
    } finally {
      // Dedupe ids would stay 48 h and session state 24 h: a shared Redis would grow by
      // 120,000 keys a run.
      const removed = await deleteRedisPrefix(realEnv.QUARTILE_REDIS_URL, realEnv.QUARTILE_REDIS_KEY_PREFIX);
      say(`removed the run's ${removed} Redis keys`);
    }
  } else {
    say('QUARTILE_KAFKA_BROKERS / QUARTILE_REDIS_URL not set: no real-services figures (run `eval "$(ci/services env)"` first).');
  }
  const overhead = floorRate / embeddedWarm.eventsPerSec;
  say(`overhead vs floor (embedded, warm): ${round(overhead)}x  (goal: within 3x)`);
  return {
    embeddedEventsPerSec: Math.round(embeddedWarm.eventsPerSec),
    embeddedColdEventsPerSec: Math.round(embeddedCold.eventsPerSec),
    kafkaEventsPerSec: kafkaWarm === undefined ? null : Math.round(kafkaWarm.eventsPerSec),
    kafkaEventsPerCpuSec: kafkaWarm === undefined ? null : Math.round(kafkaWarm.eventsPerCpuSec),
    embeddedEventsPerCpuSec: Math.round(embeddedWarm.eventsPerCpuSec),
    kafkaColdEventsPerSec: kafkaCold === undefined ? null : Math.round(kafkaCold.eventsPerSec),
    floorEventsPerSec: Math.round(floorRate),
    overheadVsFloor: round(overhead),
    events: count,
  };
}
