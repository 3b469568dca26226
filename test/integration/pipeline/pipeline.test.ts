/**
 * The pipeline end to end on both backends: events from the collector come out
 * enriched and hashed, sessions close, duplicates are dropped, and bad events are
 * dead-lettered without stopping the good ones around them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '../../../src/transport/topics.ts';
import { backendSets, keyedBy, readTopic, type TestEngine } from '../../helpers/engine.ts';
import { adFor, playEvent, sendEvents, startPipelineEngine, testTokens } from '../../helpers/pipeline.ts';
import { plain } from '../../helpers/events.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { ConsumedRecord } from '../../../src/transport/transport.ts';

const RAW_IDS = ['device-raw-123', 'profile-raw-456', 'ifa-raw-789', '203.0.113.99', 'Roku/DVP'];

for (const set of backendSets()) {
  describe(`pipeline on ${set.name} backends`, { skip: set.skip, timeout: 180_000 }, () => {
    let t: TestEngine;
    before(async () => {
      // Short gaps so inactivity closes within the test (event time follows the clock
      // on an idle partition, idleWatermarkMs behind).
      t = await startPipelineEngine(set, { pipeline: { sessionGapMs: 1500, idleWatermarkMs: 1000, allowedLatenessMs: 0 } });
    });
    after(() => t.stop());

    const decode = <T extends typeof TOPICS.enriched | typeof TOPICS.sessions | typeof TOPICS.deadLetter>(topic: T, records: ConsumedRecord[]) =>
      Promise.all(records.map(async (r) => plain(await t.engine.context.codec.decode(topic, r.value!))));

    it('enriches and hashes events, keeps no raw identifier, and closes the session on complete', async () => {
      const { token, mid } = await adFor(t, { campaignId: `cmp-${randomUUID().slice(0, 8)}`, pricing: { model: 'CPM', currency: 'EUR', value: 20 } });
      const session = `s-${randomUUID()}`;
      const ad = `${session}-1`;
      const types = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'] as const;
      await sendEvents(t, types.map((type, i) => playEvent(token, session, ad, type, { adPlayheadMs: i * 3000 })));

      const records = await readTopic(t.engine.context.backends.transport, TOPICS.enriched, 6, keyedBy(session));
      for (const r of records) for (const id of RAW_IDS) assert.ok(!r.value!.includes(id), `enriched record carries no raw ${id}`);
      const enriched = await decode(TOPICS.enriched, records);
      assert.deepEqual(enriched.map((e) => e.eventType), [...types], 'in order');
      const impression = enriched[0]!;
      assert.equal(impression.metadataId, mid);
      assert.equal(impression.priceMicros, 20_000, 'a 20 EUR CPM is 0.02 EUR per impression');
      assert.equal(impression.currency, 'EUR');
      assert.equal(impression.deviceClass, 'ctv');
      assert.match(impression.profileHash, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(impression.hashKeyId, 'h1');
      assert.notEqual(impression.vendorIds['px.example'], impression.profileHash, 'vendor-scoped ids differ from the shared hash');
      assert.equal(enriched[1]!.priceMicros, 0, 'only the impression is priced under CPM');

      const sessions = await decode(TOPICS.sessions, await readTopic(t.engine.context.backends.transport, TOPICS.sessions, 1, keyedBy(ad)));
      assert.equal(sessions.length, 1);
      assert.deepEqual(
        { started: sessions[0]!.started, quartiles: sessions[0]!.quartilesReached, completed: sessions[0]!.completed, reason: sessions[0]!.closeReason, version: sessions[0]!.version, events: sessions[0]!.eventCount, watched: sessions[0]!.watchedMs },
        { started: true, quartiles: 4, completed: true, reason: 'complete', version: 1, events: 6, watched: 15_000 },
      );
    });

    it('drops a duplicate sent again by the device, and counts it', async () => {
      const { token } = await adFor(t);
      const session = `s-${randomUUID()}`;
      const event = playEvent(token, session, `${session}-1`, 'impression');
      await sendEvents(t, [event]);
      await sendEvents(t, [event]); // a device retry: same eventId, new offset
      await sendEvents(t, [playEvent(token, session, `${session}-1`, 'start')]);
      const records = await readTopic(t.engine.context.backends.transport, TOPICS.enriched, 2, keyedBy(session));
      const enriched = await decode(TOPICS.enriched, records);
      assert.deepEqual(enriched.map((e) => e.eventType), ['impression', 'start']);
      const metrics = await t.engine.context.metrics.registry.getSingleMetricAsString('quartile_stage_dropped_total');
      assert.match(metrics, /stage="dedupe",reason="duplicate",role="all"\} [1-9]/);
    });

    it('dead-letters poison events with their codes while the good ones around them flow', async () => {
      const { token } = await adFor(t);
      const session = `s-${randomUUID()}`;
      const missing = await testTokens().mint({ mid: 'AAAAAAAAAAAAAAAAAAAAAA', ad: null, cr: null, cmp: null, seq: 1, brk: null });
      const [h, k, iv, ct, tag] = token.split('.') as [string, string, string, string, string];
      const tampered = [h, k, iv, ct.slice(0, -2) + (ct.endsWith('AA') ? 'BB' : 'AA'), tag].join('.');
      const events = [
        playEvent(token, session, `${session}-1`, 'impression'),
        playEvent(tampered, session, `${session}-2`, 'impression'),
        playEvent(token, session, `${session}-1`, 'start'),
        playEvent(missing, session, `${session}-3`, 'impression'),
        playEvent(token, session, `${session}-1`, 'firstQuartile'),
      ];
      await sendEvents(t, events);
      // And a record that is not Avro at all, straight onto the raw topic.
      await t.engine.context.backends.transport.send(TOPICS.raw, [{ key: session, value: Buffer.from('{"not":"avro"}') }]);

      const enriched = await decode(TOPICS.enriched, await readTopic(t.engine.context.backends.transport, TOPICS.enriched, 3, keyedBy(session)));
      assert.deepEqual(enriched.map((e) => e.eventType), ['impression', 'start', 'firstQuartile']);
      const dead = await decode(TOPICS.deadLetter, await readTopic(t.engine.context.backends.transport, TOPICS.deadLetter, 3, (r) => r.value!.includes(session)));
      const byId = new Map(dead.map((d) => [d.eventId, d]));
      assert.equal(byId.get(events[1]!['eventId'] as string)?.code, 'DECRYPT_TOKEN_TAMPERED');
      assert.equal(byId.get(events[3]!['eventId'] as string)?.code, 'RESOLVE_MISSING_METADATA');
      const decodeFailure = await decode(
        TOPICS.deadLetter,
        await readTopic(t.engine.context.backends.transport, TOPICS.deadLetter, 1, (r) => r.value!.includes('{"not":"avro"}')),
      );
      assert.equal(decodeFailure[0]!.code, 'DECODE_FRAMING_UNKNOWN');
      assert.equal(decodeFailure[0]!.stage, 'decode');
      assert.equal(Buffer.from(decodeFailure[0]!.originalValue).toString(), '{"not":"avro"}', 'the original bytes are kept');
    });

    it('closes an abandoned session once the watermark passes its inactivity deadline', async () => {
      const { token } = await adFor(t, { durationMs: 1000 });
      const session = `s-${randomUUID()}`;
      const ad = `${session}-1`;
      await sendEvents(t, [playEvent(token, session, ad, 'impression'), playEvent(token, session, ad, 'start', { adPlayheadMs: 400 })]);
      const sessions = await decode(TOPICS.sessions, await readTopic(t.engine.context.backends.transport, TOPICS.sessions, 1, keyedBy(ad), 30_000));
      assert.equal(sessions[0]!.closeReason, 'inactivity');
      assert.equal(sessions[0]!.started, true);
      assert.equal(sessions[0]!.completed, false);
      assert.equal(sessions[0]!.watchedMs, 400);

      // A late event for the closed session emits a corrected one: same key, version 2.
      await sendEvents(t, [playEvent(token, session, ad, 'firstQuartile', { adPlayheadMs: 600 })]);
      const corrected = await decode(TOPICS.sessions, await readTopic(t.engine.context.backends.transport, TOPICS.sessions, 2, keyedBy(ad), 30_000));
      const v2 = corrected.find((c) => c.version === 2)!;
      assert.equal(v2.closeReason, 'late');
      assert.equal(v2.quartilesReached, 1);
      assert.equal(v2.eventCount, 3);
    });
  });
}
