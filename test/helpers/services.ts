/**
 * Which real services the service-backed suites may use.
 *
 * `QUARTILE_TEST_SERVICES` decides what happens when a service's URL is not set:
 *  - `required` (CI): the suite FAILS, naming the missing variable. Nothing is skipped.
 *  - `auto` (default): the suite is skipped with a note, so `npm test` passes on a
 *    machine that has only Node.
 * The URLs are the same `QUARTILE_*` variables the engine itself reads.
 */
export type ServiceName = 'kafka' | 'schemaRegistry' | 'redis' | 'clickhouse';

const VARIABLES: Record<ServiceName, string> = {
  kafka: 'QUARTILE_KAFKA_BROKERS',
  schemaRegistry: 'QUARTILE_SCHEMA_REGISTRY_URL',
  redis: 'QUARTILE_REDIS_URL',
  clickhouse: 'QUARTILE_CLICKHOUSE_URL',
};

/** True when CI demands real services. */
export function servicesRequired(): boolean {
  return process.env['QUARTILE_TEST_SERVICES'] === 'required';
}

/** The answer for one service: its URL, or why the suite is skipped. */
export interface ServiceAvailability {
  readonly url: string | undefined;
  /** A skip reason for node:test, or false when the service is there. */
  readonly skip: string | false;
}

/**
 * Looks a service up. Throws (failing the suite) when services are required and the
 * variable is missing; otherwise returns a skip reason.
 */
export function service(name: ServiceName): ServiceAvailability {
  const variable = VARIABLES[name];
  const url = process.env[variable];
  if (url !== undefined && url !== '') return { url, skip: false };
  if (servicesRequired()) {
    throw new Error(`QUARTILE_TEST_SERVICES=required but ${variable} is not set. Start the services with \`eval "$(ci/services up)"\`.`);
  }
  return { url: undefined, skip: `${variable} is not set (run \`eval "$(ci/services up)"\` to include this suite)` };
}

/**
 * Deletes every Redis key under `prefix` (SCAN + UNLINK) and returns how many. Runs
 * that give themselves a key prefix clean up with it: the CI Redis keeps an AOF, so
 * what a run leaves stays across restarts and piles up on a development machine.
 */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  let removed = 0;
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) removed += await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
  return removed;
}

/** Deletes every Kafka topic whose name starts with `prefix` and returns how many. */
export async function deleteKafkaPrefix(brokers: string, prefix: string): Promise<number> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: 'quartile-cleanup', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return topics.length;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
