/**
 * "503 when Kafka is stopped, with nothing lost once it is back", on the embedded log:
 * the collector runs on the real EmbeddedTransport behind a decorator whose `send`
 * fails with a retriable TRANSPORT_UNAVAILABLE while the test says the log is down.
 * (test/chaos/collector-kafka-stop.test.ts does the same by stopping real Kafka.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTelemetryClient } from '../../../src/client/index.ts';
import { Collector } from '../../../src/collector/collector.ts';
import type { ComponentFactory } from '../../../src/core/engine.ts';
import { QuartileError } from '../../../src/core/errors.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import type { ConsumerOptions, OutgoingRecord, RecordPosition, TopicSpec, Transport } from '../../../src/transport/transport.ts';
import { backendSets, keyedBy, readTopic, startTestEngine, type TestEngine } from '../../helpers/engine.ts';
import { post } from '../../helpers/http.ts';

/** The real transport, except that `send` fails as an unreachable broker would while `down`. */
class SwitchableTransport implements Transport {
  down = false;
  refusedSends = 0;
  constructor(private readonly inner: Transport) {}

  get kind(): Transport['kind'] {
    return this.inner.kind;
  }
  send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> {
    if (this.down) {
      this.refusedSends++;
      return Promise.reject(new QuartileError('TRANSPORT_UNAVAILABLE', `Kafka send to ${topic} failed: connect ECONNREFUSED (test)`, { retriable: true }));
    }
    return this.inner.send(topic, records);
  }
  ensureTopics(topics: readonly TopicSpec[]): Promise<string[]> {
    return this.inner.ensureTopics(topics);
  }
  listTopics(): Promise<string[]> {
    return this.inner.listTopics();
  }
  createConsumer(options: ConsumerOptions): ReturnType<Transport['createConsumer']> {
    return this.inner.createConsumer(options);
  }
  offsets(topic: string): ReturnType<Transport['offsets']> {
    return this.inner.offsets(topic);
  }
  lag(groupId: string, topic: string): ReturnType<Transport['lag']> {
    return this.inner.lag(groupId, topic);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function event(session: string, eventType = 'impression'): Record<string, unknown> {
  return { eventId: randomUUID(), eventType, token: 'tok.en', playbackSessionId: session, adInstanceId: `${session}-ad1`, occurredAt: Date.now() - 100 };
}

async function rawHigh(transport: Transport): Promise<number> {
  return (await transport.offsets(TOPICS.raw)).reduce((sum, p) => sum + Number(p.high), 0);
}

describe('collector while the event log is unavailable (embedded log)', { timeout: 60_000 }, () => {
  const embedded = backendSets().find((s) => s.name === 'embedded')!;
  let t: TestEngine;
  let log: SwitchableTransport;
  before(async () => {
    // The collector gets the decorated transport; everything else (topics, reads) the real one.
    const collector: ComponentFactory = (ctx) => {
      log = new SwitchableTransport(ctx.backends.transport);
      return new Collector({ config: ctx.config, transport: log, codec: ctx.codec, metrics: ctx.metrics, logger: ctx.logger });
    };
    t = await startTestEngine(embedded, {}, { role: 'collector', components: [collector] });
  });
  after(() => t.stop());

  it('answers 503 COLLECTOR_TRANSPORT_UNAVAILABLE with a jittered Retry-After, and accepts nothing', async () => {
    const transport = t.engine.context.backends.transport;
    const before = await rawHigh(transport);
    log.down = true;
    try {
      const retryAfters = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const response = await post(`${t.url}/v1/events`, { events: [event(`s-${randomUUID()}`), { eventType: 'impresion' }] });
        assert.equal(response.status, 503, 'never 200 while the log cannot acknowledge');
        assert.equal(response.body['code'], 'COLLECTOR_TRANSPORT_UNAVAILABLE');
        const seconds = Number(response.headers['retry-after']);
        assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 5, `Retry-After ${seconds}`);
        retryAfters.add(String(seconds));
      }
      assert.ok(retryAfters.size > 1, 'Retry-After is jittered, so retries do not arrive together');
      assert.equal(await rawHigh(transport), before, 'nothing was appended');
    } finally {
      log.down = false;
    }
  });

  it('loses nothing: the producer client’s retries put every event on ads.events.raw once the log is back', async () => {
    const sessions = [`s-${randomUUID()}`, `s-${randomUUID()}`, `s-${randomUUID()}`];
    const client = createTelemetryClient({ endpoint: t.url, maxBatchEvents: 25, flushIntervalMs: 10, retryBaseMs: 20, retryMaxMs: 500 });
    const tracked: string[] = [];
    log.down = true;
    const refusedBefore = log.refusedSends;
    try {
      for (let i = 0; i < 90; i++) {
        const session = sessions[i % sessions.length]!;
        tracked.push(client.track({ eventType: i % 2 === 0 ? 'impression' : 'complete', token: 'tok', playbackSessionId: session, adInstanceId: `${session}-a` }));
      }
      // Wait until the client has been answered 503 and is backing off.
      const deadline = Date.now() + 10_000;
      while (client.stats().retries === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(client.stats().retries > 0, 'the client retried after a 503');
      assert.ok(log.refusedSends > refusedBefore);
    } finally {
      log.down = false;
    }
    await client.close();

    const stats = client.stats();
    assert.equal(stats.accepted, tracked.length);
    assert.deepEqual(stats.dropped, { 'queue-full': 0, 'client-error': 0, 'retry-deadline': 0, closed: 0 });
    const records = await readTopic(t.engine.context.backends.transport, TOPICS.raw, tracked.length, keyedBy(...sessions));
    const ids = await Promise.all(records.map(async (r) => (await t.engine.context.codec.decode(TOPICS.raw, r.value!)).eventId));
    assert.deepEqual([...ids].sort(), [...tracked].sort(), 'every tracked event, and (nothing having been written while down) each once');
    for (const session of sessions) {
      const inSession = records.filter((r) => r.key!.toString() === session).map((r) => ids[records.indexOf(r)]);
      const sent = tracked.filter((_, i) => sessions[i % sessions.length] === session);
      assert.deepEqual(inSession, sent, `${session}'s events in the order tracked`);
    }
  });
});
