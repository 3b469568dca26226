/**
 * Opens the three seams the config asks for: production backends where their URL is
 * set, embedded ones otherwise. Everything above this module sees only the seam
 * interfaces.
 */
import { join, resolve } from 'node:path';
import type { QuartileConfig } from '../config/spec.ts';
import type { Logger } from '../telemetry/logger.ts';
import { EmbeddedTransport } from '../transport/embedded/embedded-transport.ts';
import { KafkaTransport } from '../transport/kafka/kafka-transport.ts';
import type { Transport } from '../transport/transport.ts';
import { PrefixedTransport } from '../transport/prefixed-transport.ts';
import { MemoryStateStore } from '../state/memory-state.ts';
import { RedisStateStore } from '../state/redis-state.ts';
import type { StateStore } from '../state/state-store.ts';
import { openWarehouse } from '../warehouse/open-warehouse.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { LazyWarehouse } from '../warehouse/lazy-warehouse.ts';

/** The three seams, opened. */
export interface Backends {
  readonly transport: Transport;
  readonly state: StateStore;
  readonly warehouse: Warehouse;
  /** Closes all three, each even if another fails. */
  close(): Promise<void>;
}

/** The transport for this config. */
export function openTransport(config: QuartileConfig, logger: Logger): Transport {
  const transport = openBareTransport(config, logger);
  return config.kafka.topicPrefix === '' ? transport : new PrefixedTransport(transport, config.kafka.topicPrefix);
}

function openBareTransport(config: QuartileConfig, logger: Logger): Transport {
  if (config.kafka.brokers.length === 0) return new EmbeddedTransport();
  return new KafkaTransport({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    connectionTimeoutMs: config.kafka.connectionTimeoutMs,
    ssl: config.kafka.ssl,
    sasl: config.kafka.sasl,
    logger,
  });
}

/** The state store for this config. */
export function openState(config: QuartileConfig): StateStore {
  if (config.redis.url === '') return new MemoryStateStore({ maxEntries: config.state.maxEntries });
  return new RedisStateStore({ url: config.redis.url, keyPrefix: config.redis.keyPrefix });
}

/** The warehouse for this config (chDB lives in dataDir/chdb). */
export function openConfiguredWarehouse(config: QuartileConfig): Promise<Warehouse> {
  return openWarehouse({
    url: config.clickhouse.url,
    database: config.clickhouse.database,
    username: config.clickhouse.username,
    password: config.clickhouse.password,
    requestTimeoutMs: config.clickhouse.requestTimeoutMs,
    chdbPath: join(resolve(config.dataDir), 'chdb'),
  });
}

/**
 * Opens every seam. The warehouse connects on first use, so roles that never write
 * to ClickHouse never open it (see LazyWarehouse); `eagerWarehouse` opens it now, so
 * that a locked chDB directory stops start-up with a clear message.
 */
export async function openBackends(config: QuartileConfig, logger: Logger, options: { eagerWarehouse: boolean } = { eagerWarehouse: true }): Promise<Backends> {
  const transport = openTransport(config, logger);
  const state = openState(config);
  const warehouse = new LazyWarehouse(config.clickhouse.url === '' ? 'chdb' : 'clickhouse', config.clickhouse.database, () => openConfiguredWarehouse(config));
  if (options.eagerWarehouse && warehouse.kind === 'chdb') {
    try {
      await warehouse.ping();
    } catch (error) {
      await Promise.allSettled([transport.close(), state.close()]);
      throw error;
    }
  }
  return {
    transport,
    state,
    warehouse,
    async close() {
      await Promise.allSettled([transport.close(), state.close(), warehouse.close()]);
    },
  };
}
