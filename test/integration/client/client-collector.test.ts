/**
 * The producer client against the real collector on both backends: a producer over
 * its rate limit is slowed by 429 + Retry-After and still delivers every event, each
 * once, in order, onto ads.events.raw.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTelemetryClient } from '../../../src/client/index.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import { backendSets, keyedBy, readTopic, startTestEngine, type TestEngine } from '../../helpers/engine.ts';

const KEY = 'producer-key-0123456789';

for (const set of backendSets()) {
  describe(`telemetry client → collector on ${set.name} backends`, { skip: set.skip, timeout: 120_000 }, () => {
    let t: TestEngine;
    before(async () => {
      // Shedding is another test's subject: keep it out of this one even on a loaded machine.
      t = await startTestEngine(
        set,
        { collector: { apiKeys: [{ id: 'ssai-1', key: KEY, ratePerSec: 40, burst: 20 }], shedEventLoopLagMs: 60_000, hardEventLoopLagMs: 120_000 } },
        { role: 'collector' },
      );
    });
    after(() => t.stop());

    it('delivers every event once and in order, riding out 429s', async () => {
      const session = `s-${randomUUID()}`;
      const client = createTelemetryClient({ endpoint: t.url, apiKey: KEY, maxBatchEvents: 20, flushIntervalMs: 20, retryBaseMs: 50 });
      const ids: string[] = [];
      for (let i = 0; i < 80; i++) {
        ids.push(client.track({ eventType: 'progress', token: 'tok', playbackSessionId: session, adInstanceId: `${session}-a`, adPlayheadMs: i * 100 }));
      }
      await client.close();
      const stats = client.stats();
      assert.equal(stats.accepted, 80);
      assert.ok(stats.retries > 0, 'the rate limit made it retry');
      assert.equal(Object.values(stats.dropped).reduce((a, b) => a + b, 0), 0);

      const records = await readTopic(t.engine.context.backends.transport, TOPICS.raw, 80, keyedBy(session));
      const decoded = await Promise.all(records.map((r) => t.engine.context.codec.decode(TOPICS.raw, r.value!)));
      assert.deepEqual(decoded.map((e) => e.eventId), ids, 'each event once, in the order tracked');
      assert.equal(decoded[0]!.producer, 'ssai-1');
    });
  });
}
