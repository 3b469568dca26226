import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envVarFor, fieldEntries, loadConfig, redactedConfig } from '../../../src/config/load.ts';
import { isQuartileError } from '../../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'quartile-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('config', () => {
  it('has the contract defaults: port 8080 and data in ./.quartile, embedded backends', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.http.port, 8080);
    assert.equal(config.dataDir, './.quartile');
    assert.deepEqual(config.kafka.brokers, []);
    assert.equal(config.redis.url, '');
    assert.equal(config.clickhouse.url, '');
    assert.equal(config.schemaRegistry.url, '');
  });

  it('layers defaults, then the file, then the environment', () => {
    const path = file('layers.yaml', 'http:\n  port: 9000\n  host: 0.0.0.0\nlogLevel: debug\n');
    const config = loadConfig({ file: path, env: { QUARTILE_HTTP_PORT: '9100' } });
    assert.equal(config.http.port, 9100, 'environment wins over the file');
    assert.equal(config.http.host, '0.0.0.0', 'the file wins over defaults');
    assert.equal(config.logLevel, 'debug');
  });

  it('reads the four service URLs and data dir from their contract variables', () => {
    const config = loadConfig({
      env: {
        QUARTILE_KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
        QUARTILE_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
        QUARTILE_REDIS_URL: 'redis://127.0.0.1:6379',
        QUARTILE_CLICKHOUSE_URL: 'http://127.0.0.1:8123',
        QUARTILE_DATA_DIR: '/var/lib/quartile',
      },
    });
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092', '127.0.0.1:9093']);
    assert.equal(config.schemaRegistry.url, 'http://127.0.0.1:8081/apis/ccompat/v7');
    assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(config.clickhouse.url, 'http://127.0.0.1:8123');
    assert.equal(config.dataDir, '/var/lib/quartile');
  });

  const unknown: Array<[string, () => unknown, RegExp]> = [
    ['an unknown variable', () => loadConfig({ env: { QUARTILE_HTTP_PROT: '1' } }), /QUARTILE_HTTP_PROT/],
    ['an unknown file key', () => loadConfig({ file: file('u.json', '{"http":{"prot":1}}'), env: {} }), /"http\.prot"/],
    ['an unknown top-level group', () => loadConfig({ file: file('g.json', '{"kafak":{"brokers":[]}}'), env: {} }), /"kafak"/],
  ];
  for (const [what, load, names] of unknown) {
    it(`refuses ${what}, naming the key`, () => {
      assert.throws(load, (error: unknown) => isQuartileError(error, 'CONFIG_UNKNOWN_KEY') && names.test(error.message));
    });
  }

  const invalid: Array<[string, Record<string, string>, RegExp]> = [
    ['a port that is not a number', { QUARTILE_HTTP_PORT: '80a' }, /http\.port.*integer/],
    ['a port out of range', { QUARTILE_HTTP_PORT: '70000' }, /http\.port/],
    ['a Redis URL with the wrong scheme', { QUARTILE_REDIS_URL: 'http://x' }, /redis\.url.*redis/],
    ['an unknown log level', { QUARTILE_LOG_LEVEL: 'loud' }, /logLevel.*one of/],
    ['a bad boolean', { QUARTILE_KAFKA_SSL: 'maybe' }, /kafka\.ssl/],
    ['a Control Room path without its leading slash', { QUARTILE_CONTROL_ROOM_PATH: 'ops' }, /controlRoom\.path.*a path such as/],
    ['a Control Room path over the API', { QUARTILE_CONTROL_ROOM_PATH: '/v1/ops' }, /controlRoom\.path/],
    ['a Control Room path over /metrics', { QUARTILE_CONTROL_ROOM_PATH: '/metrics' }, /controlRoom\.path/],
  ];
  for (const [what, env, message] of invalid) {
    it(`refuses ${what}`, () => {
      assert.throws(() => loadConfig({ env }), (error: unknown) => isQuartileError(error, 'CONFIG_INVALID_VALUE') && message.test(error.message));
    });
  }

  it('ignores tooling variables such as QUARTILE_TEST_SERVICES', () => {
    assert.doesNotThrow(() => loadConfig({ env: { QUARTILE_TEST_SERVICES: 'required', QUARTILE_CI_DIR: '/x' } }));
  });

  it('is frozen all the way down', () => {
    const config = loadConfig({ env: {} });
    assert.throws(() => {
      (config.http as { port: number }).port = 1;
    }, TypeError);
    assert.ok(Object.isFrozen(config.kafka.brokers));
  });

  it('redacts secrets but keeps the shape of URLs', () => {
    const config = loadConfig({
      env: { QUARTILE_REDIS_URL: 'redis://user:hunter2@10.0.0.1:6379/0', QUARTILE_CLICKHOUSE_PASSWORD: 'pw', QUARTILE_ADMIN_TOKEN: 'tok' },
    });
    const shown = JSON.stringify(redactedConfig(config));
    assert.ok(!shown.includes('hunter2') && !shown.includes('"pw"') && !shown.includes('tok"'), shown);
    assert.ok(shown.includes('10.0.0.1:6379'), 'the host stays visible');
  });

  it('documents every key and maps it to one environment variable', () => {
    const entries = fieldEntries();
    assert.ok(entries.every((e) => e.field.doc.length > 10), 'every key has a doc');
    assert.equal(new Set(entries.map((e) => e.envVar)).size, entries.length);
    assert.equal(envVarFor('schemaRegistry.url'), 'QUARTILE_SCHEMA_REGISTRY_URL');
  });
});
