/**
 * There is no Docker engine on the build machines, so the compose file is checked
 * statically: it parses, names the services the README promises, gives each a
 * healthcheck, and points Quartile at the same QUARTILE_* variables ci/ uses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test: unknown };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(new URL('../../../docker-compose.yml', import.meta.url), 'utf8')) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('lists Kafka 3.9 (KRaft), a schema registry, ClickHouse 25, Redis 7 and Quartile', () => {
    const s = compose.services;
    assert.deepEqual(Object.keys(s).sort(), ['clickhouse', 'kafka', 'quartile', 'redis', 'schema-registry']);
    assert.match(s['kafka']!.image!, /^apache\/kafka:3\.9\./);
    assert.equal(s['kafka']!.environment!['KAFKA_PROCESS_ROLES'], 'broker,controller');
    assert.match(s['clickhouse']!.image!, /^clickhouse\/clickhouse-server:25\./);
    assert.match(s['redis']!.image!, /^redis:7/);
    assert.ok(s['quartile']!.build !== undefined, 'quartile is built from the Dockerfile');
  });

  it('gives every service a healthcheck and starts Quartile only when its backends are healthy', () => {
    for (const [name, service] of Object.entries(compose.services)) assert.ok(service.healthcheck?.test, `${name} has a healthcheck`);
    const deps = compose.services['quartile']!.depends_on!;
    for (const backend of ['kafka', 'schema-registry', 'clickhouse', 'redis']) assert.equal(deps[backend]?.condition, 'service_healthy');
  });

  it('configures Quartile through the four QUARTILE_* URLs', () => {
    const env = compose.services['quartile']!.environment!;
    for (const key of ['QUARTILE_KAFKA_BROKERS', 'QUARTILE_SCHEMA_REGISTRY_URL', 'QUARTILE_REDIS_URL', 'QUARTILE_CLICKHOUSE_URL']) {
      assert.ok(env[key], `${key} is set`);
    }
    assert.match(env['QUARTILE_SCHEMA_REGISTRY_URL']!, /\/apis\/ccompat\/v7$/);
  });
});
