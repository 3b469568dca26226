/**
 * Chaos: stop real Kafka under a producing client, then bring it back.
 *
 * While the broker is down, the collector must answer 503 and never 200 (a 200 means
 * "the log acknowledged these events"). Once it is back, every event the producer
 * client tracked must be on ads.events.raw: the client retries what got 503s, so an
 * event may be there twice (the pipeline drops duplicates by eventId), never zero
 * times.
 *
 * This stops the SHARED Kafka of `ci/services`, so chaos tests run on their own, one
 * at a time, after the main suites (`npm run test:chaos`, .ci/run). Kafka is brought
 * back in `finally`, whatever happened.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTelemetryClient, type TelemetryClient } from '../../src/client/index.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import type { BackendSet } from '../helpers/engine.ts';
import { startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { post } from '../helpers/http.ts';
import { service } from '../helpers/services.ts';
import { sleep, uniqueName, waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const CI_SERVICES = fileURLToPath(new URL('../../ci/services', import.meta.url));

/** Bounds of the scenario: it stops by itself whatever the collector does. */
const BEFORE_STOP_MS = 2_000;
const WHILE_DOWN_MS = 10_000;
const AFTER_START_MS = 2_000;
const TICK_MS = 50;
const EVENTS_PER_TICK = 4;
const MAX_EVENTS = 5_000;
const PROBE_EVERY_MS = 250;
/** Probe loops in parallel: a 503 takes seconds while the producer retries the dead broker. */
const PROBERS = 3;
const CLOSE_TIMEOUT_MS = 120_000;

async function kafka(verb: 'up' | 'down'): Promise<void> {
  await run(CI_SERVICES, [verb, 'kafka'], { timeout: 180_000 });
}

async function kafkaIsUp(): Promise<boolean> {
  try {
    await run(CI_SERVICES, ['status', 'kafka'], { timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/** One probe request and what the collector answered. */
interface Probe {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  readonly code: unknown;
  readonly retryAfter: unknown;
}

function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const broker = service('kafka');
const registry = service('schemaRegistry');
const skip = broker.skip || registry.skip;

describe('collector when Kafka is stopped and started again', { skip, timeout: 420_000 }, () => {
  const set: BackendSet = {
    name: 'real',
    skip: false,
    // Topics of its own on the shared broker, so the read-back scans only this run's events.
    env: skip ? {} : { QUARTILE_KAFKA_BROKERS: broker.url!, QUARTILE_SCHEMA_REGISTRY_URL: registry.url!, QUARTILE_KAFKA_TOPIC_PREFIX: `${uniqueName('chaos')}.` },
  };
  let t: TestEngine;
  before(async () => {
    t = await startTestEngine(set, {}, { role: 'collector' });
  });
  after(async () => {
    await t?.stop();
  });

  it('answers 503, never 200, while Kafka is down, and loses no tracked event', async (context) => {
    const sessions = Array.from({ length: 20 }, () => `chaos-${randomUUID()}`);
    const client: TelemetryClient = createTelemetryClient({
      endpoint: t.url,
      maxBatchEvents: 40,
      flushIntervalMs: 50,
      retryBaseMs: 100,
      retryMaxMs: 2_000,
      maxQueueEvents: MAX_EVENTS,
    });
    const tracked: string[] = [];
    const probes: Probe[] = [];
    let producing = true;
    let probing = true;
    let downAt = Number.POSITIVE_INFINITY;
    let upAt = Number.POSITIVE_INFINITY;

    const producer = (async () => {
      for (let tick = 0; producing && tracked.length < MAX_EVENTS; tick++) {
        for (let i = 0; i < EVENTS_PER_TICK; i++) {
          const session = sessions[(tick * EVENTS_PER_TICK + i) % sessions.length]!;
          tracked.push(client.track({ eventType: 'impression', token: 'tok', playbackSessionId: session, adInstanceId: `${session}-ad` }));
        }
        await sleep(TICK_MS);
      }
    })();
    const probeLoop = async (): Promise<void> => {
      const probeSession = `chaos-probe-${randomUUID()}`;
      while (probing) {
        const startedAt = Date.now();
        const event = { eventId: randomUUID(), eventType: 'impression', token: 'tok', playbackSessionId: probeSession, adInstanceId: 'probe', occurredAt: startedAt };
        try {
          const answer = await post(`${t.url}/v1/events`, { events: [event] });
          probes.push({ startedAt, endedAt: Date.now(), status: answer.status, code: answer.body['code'], retryAfter: answer.headers['retry-after'] });
        } catch (error) {
          probes.push({ startedAt, endedAt: Date.now(), status: 0, code: String(error), retryAfter: undefined });
        }
        await sleep(PROBE_EVERY_MS);
      }
    };
    const prober = Promise.all(Array.from({ length: PROBERS }, probeLoop));

    try {
      await sleep(BEFORE_STOP_MS);
      await kafka('down');
      downAt = Date.now();
      await sleep(WHILE_DOWN_MS);
      upAt = Date.now();
      await kafka('up');
      await sleep(AFTER_START_MS);
      producing = false;
      await producer;
      // Every tracked event is delivered or the client gives up (it must not).
      await withTimeout('the client’s final flush', client.close(), CLOSE_TIMEOUT_MS);
      await waitFor('a 200 from the collector after Kafka came back', () => probes.some((p) => p.startedAt > upAt && p.status === 200), 60_000);
    } finally {
      producing = false;
      probing = false;
      await producer;
      await prober;
      if (!(await kafkaIsUp())) await kafka('up');
    }

    const beforeStop = probes.filter((p) => p.endedAt < downAt);
    assert.ok(beforeStop.some((p) => p.status === 200), `the collector worked before the stop: ${JSON.stringify(beforeStop.map((p) => p.status))}`);
    const whileDown = probes.filter((p) => p.startedAt >= downAt && p.endedAt <= upAt);
    assert.ok(whileDown.length >= 2, `probed while Kafka was down (${whileDown.length} probes)`);
    for (const p of whileDown) {
      assert.equal(p.status, 503, `answered while Kafka was down: ${JSON.stringify(p)}`);
      assert.equal(p.code, 'COLLECTOR_TRANSPORT_UNAVAILABLE');
      assert.ok(Number(p.retryAfter) >= 1, 'with a Retry-After');
    }

    const stats = client.stats();
    assert.ok(stats.retries > 0, 'the client had to retry');
    assert.deepEqual(stats.dropped, { 'queue-full': 0, 'client-error': 0, 'retry-deadline': 0, closed: 0 }, 'the client gave up on nothing');
    assert.equal(stats.accepted, tracked.length);

    // Every tracked eventId on the topic (duplicates allowed, losses not).
    const missing = new Set(tracked);
    const wanted = new Set(sessions);
    const transport = t.engine.context.backends.transport;
    const consumer = transport.createConsumer({ groupId: uniqueName('chaos-reader'), topics: [TOPICS.raw], fromBeginning: true, partitionsConcurrently: 8 });
    let seen = 0;
    await consumer.run(async (batch) => {
      for (const record of batch.records) {
        if (record.key === null || !wanted.has(record.key.toString())) continue;
        seen++;
        missing.delete((await t.engine.context.codec.decode(TOPICS.raw, record.value!)).eventId);
      }
    });
    try {
      await waitFor(`all ${tracked.length} tracked events on ${TOPICS.raw}`, () => missing.size === 0, 90_000, 100).catch((error: unknown) => {
        throw new Error(`${missing.size} of ${tracked.length} tracked events are not on ${TOPICS.raw}: ${String(error)}`);
      });
    } finally {
      await consumer.stop();
    }
    assert.ok(seen >= tracked.length);
    context.diagnostic(
      `${tracked.length} events tracked, ${stats.requests} requests, ${stats.retries} retried; ${whileDown.length} probes while down (all 503, ` +
        `answered in ${Math.min(...whileDown.map((p) => p.endedAt - p.startedAt))}-${Math.max(...whileDown.map((p) => p.endedAt - p.startedAt))} ms); ` +
        `${seen - tracked.length} duplicates on ${TOPICS.raw}; Kafka was down ${Math.round((upAt - downAt) / 1000)} s`,
    );
  });
});
