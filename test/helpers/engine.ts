/**
 * Starts an engine in this test process on a chosen backend set: `embedded`, or
 * `real` (Kafka, the schema registry, Redis and ClickHouse from QUARTILE_* URLs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import type { QuartileConfig } from '../../src/config/spec.ts';
import { COMPONENT_FACTORIES } from '../../src/core/components.ts';
import { startEngine, type ComponentFactory, type Engine } from '../../src/core/engine.ts';
import type { Role } from '../../src/core/roles.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import type { ConsumedRecord, Transport } from '../../src/transport/transport.ts';
import { service } from './services.ts';
import { uniqueName, waitFor } from './wait.ts';

/** A backend set a suite runs on. */
export interface BackendSet {
  readonly name: 'embedded' | 'real';
  /** A skip reason, or false when the set is available. */
  readonly skip: string | false;
  /** QUARTILE_* environment for this set. */
  readonly env: Record<string, string>;
}

/**
 * The two backend sets every behaviour is tested on. `real` is Kafka, the schema
 * registry and Redis as services, with the warehouse on chDB (ClickHouse 26.x
 * in-process): the ClickHouse server available to CI is Debian's 18.16, too old for
 * Quartile's schema (DateTime64, TTL, insert_deduplication_token), and is used for the
 * HTTP-transport smoke tests only (test/integration/seams/warehouse.contract.test.ts).
 */
export function backendSets(): BackendSet[] {
  const kafka = service('kafka');
  const registry = service('schemaRegistry');
  const redis = service('redis');
  const skip = [kafka, registry, redis].find((s) => s.skip)?.skip ?? false;
  return [
    { name: 'embedded', skip: false, env: {} },
    {
      name: 'real',
      skip,
      env: skip
        ? {}
        : {
            QUARTILE_KAFKA_BROKERS: kafka.url!,
            QUARTILE_SCHEMA_REGISTRY_URL: registry.url!,
            QUARTILE_REDIS_URL: redis.url!,
            // Each test file gets its own topics and key space on the shared services,
            // so a pipeline here never chews through other files' (or runs') events.
            QUARTILE_KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
            QUARTILE_REDIS_KEY_PREFIX: `${uniqueName('t')}:`,
            QUARTILE_CLICKHOUSE_DATABASE: uniqueName('t').replace(/-/g, '_'),
          },
    },
  ];
}

/** An engine in this process with its own data directory. */
export interface TestEngine {
  readonly engine: Engine;
  readonly config: QuartileConfig;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts an engine on `set` with extra config overrides (nested key shape). */
export async function startTestEngine(
  set: BackendSet,
  overrides: Record<string, unknown> = {},
  options: { role?: Role; components?: readonly ComponentFactory[] } = {},
): Promise<TestEngine> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quartile-engine-'));
  const config = loadConfig({
    env: { ...set.env, QUARTILE_DATA_DIR: dataDir, QUARTILE_HTTP_PORT: '0' },
    overrides,
  });
  const engine = await startEngine({ config, role: options.role ?? 'all', logger: silentLogger(), components: options.components ?? COMPONENT_FACTORIES });
  await engine.setupDone;
  return {
    engine,
    config,
    url: engine.url,
    async stop() {
      await engine.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Reads `topic` from the earliest offset with a throwaway group until `atLeast`
 * records matching `keep` arrived (topics on the shared services also hold other
 * runs' records, so tests select theirs by a unique key).
 */
export async function readTopic(
  transport: Transport,
  topic: string,
  atLeast: number,
  keep: (record: ConsumedRecord) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const consumer = transport.createConsumer({ groupId: uniqueName('reader'), topics: [topic], fromBeginning: true, partitionsConcurrently: 8 });
  await consumer.run(async (batch) => {
    for (const r of batch.records) if (keep(r)) records.push(r);
  });
  try {
    await waitFor(`${atLeast} records on ${topic}`, () => records.length >= atLeast, timeoutMs);
    // Anything beyond `atLeast` that is already there arrives within a moment.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.stop();
  }
  return records;
}

/** A predicate keeping records whose key is one of `keys`. */
export function keyedBy(...keys: string[]): (record: ConsumedRecord) => boolean {
  const wanted = new Set(keys);
  return (record) => record.key !== null && wanted.has(record.key.toString());
}
