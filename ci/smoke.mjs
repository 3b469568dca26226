#!/usr/bin/env node
// Smoke test of the services started by `ci/services up`, through the same client
// libraries Quartile uses (kafkajs, @kafkajs/confluent-schema-registry, ioredis,
// @clickhouse/client), so "the service is up" also means "our clients can talk to it".
//   eval "$(ci/services up)" && node ci/smoke.mjs
// Needs `npm ci` first. Exits non-zero naming the first service that fails.
// Touches only names prefixed `ci_smoke`: safe to run against the shared services.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import Redis from 'ioredis';
import { createClient } from '@clickhouse/client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run eval "$(ci/services up)" first`);
  return value;
};

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    console.error(`FAIL ${name}: ${err?.stack ?? err}`);
    process.exitCode = 1;
  }
}

const run = randomUUID().slice(0, 8);

// Registry: register an Avro schema, then fetch it back by the returned id and round-trip
// a record through the Confluent wire format (magic byte + 4-byte id).
await check('schema registry (register, GET /schemas/ids/{id}, encode/decode)', async () => {
  const registry = new SchemaRegistry({ host: env('QUARTILE_SCHEMA_REGISTRY_URL') });
  const schema = {
    type: 'record', name: 'Smoke', namespace: 'ci.smoke',
    fields: [{ name: 'id', type: 'string' }, { name: 'n', type: 'int' }],
  };
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject: `ci_smoke-${run}-value` },
  );
  const fetched = await registry.getSchema(id);
  if (!fetched) throw new Error(`schema ${id} not fetchable`);
  const bytes = await registry.encode(id, { id: run, n: 7 });
  const back = await registry.decode(bytes);
  if (back.id !== run || back.n !== 7) throw new Error(`round trip gave ${JSON.stringify(back)}`);
});

// Kafka: create a topic with the admin client (auto-create is off), produce, consume
// through a consumer group, delete the topic.
await check('kafka (create topic, produce, consume in a group, delete topic)', async () => {
  const kafka = new Kafka({
    clientId: 'ci-smoke', brokers: env('QUARTILE_KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING,
  });
  const topic = `ci_smoke.${run}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 's1', value: `hello ${run}` }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `ci_smoke-${run}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      consumer.run({
        eachMessage: async ({ message }) => { clearTimeout(timer); resolve(message.value.toString()); },
      }).catch(reject);
    });
    await consumer.disconnect();
    if (got !== `hello ${run}`) throw new Error(`consumed ${got}`);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

await check('redis (SET/GET, AOF enabled)', async () => {
  const redis = new Redis(env('QUARTILE_REDIS_URL'), { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();
  try {
    const key = `ci_smoke:${run}`;
    await redis.set(key, 'v', 'EX', 60);
    if ((await redis.get(key)) !== 'v') throw new Error('GET did not return the SET value');
    const [, aof] = await redis.config('GET', 'appendonly');
    if (aof !== 'yes') throw new Error(`appendonly is ${aof}, expected yes`);
    await redis.del(key);
  } finally {
    redis.disconnect();
  }
});

// ClickHouse 18.16 (Debian) is old: plain query/insert/select over HTTP only.
await check('clickhouse (HTTP: create, insert JSONEachRow, select, drop)', async () => {
  const ch = createClient({ url: env('QUARTILE_CLICKHOUSE_URL') });
  const table = `ci_smoke_${run}`;
  try {
    await ch.command({ query: `CREATE TABLE ${table} (id String, n UInt32) ENGINE = MergeTree ORDER BY id` });
    await ch.insert({ table, values: [{ id: 'a', n: 1 }, { id: 'b', n: 2 }], format: 'JSONEachRow' });
    const rs = await ch.query({ query: `SELECT sum(n) AS s FROM ${table}`, format: 'JSONEachRow' });
    const rows = await rs.json();
    if (Number(rows[0]?.s) !== 3) throw new Error(`sum was ${JSON.stringify(rows)}`);
  } finally {
    await ch.command({ query: `DROP TABLE IF EXISTS ${table}` }).catch(() => {});
    await ch.close();
  }
});

if (process.exitCode) console.error('smoke: FAILED');
else console.log('smoke: all services answered through the Quartile client libraries');
