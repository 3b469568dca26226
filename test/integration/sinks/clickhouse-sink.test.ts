/**
 * ClickHouse as billing sees it, on both backends (the warehouse is chDB, ClickHouse
 * 26.x; see test/helpers/engine.ts): every impression billed exactly once under
 * retries and replays, sessions stored, and a row ClickHouse refuses dead-lettered on
 * its own while the rest of its batch is written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '../../../src/transport/topics.ts';
import { backendSets, readTopic, type TestEngine } from '../../helpers/engine.ts';
import { adFor, playEvent, sendEvents, startPipelineEngine } from '../../helpers/pipeline.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ClickHouseSink } from '../../../sinks/clickhouse/sink.ts';
import { PipelineEvent } from '../../../src/pipeline/pipeline-event.ts';
import type { EnrichedAdEvent } from '../../../schemas/types.ts';

for (const set of backendSets()) {
  describe(`ClickHouse sink on ${set.name} backends`, { skip: set.skip, timeout: 240_000 }, () => {
    let t: TestEngine;
    before(async () => {
      t = await startPipelineEngine(set, { pipeline: { sessionGapMs: 1500, idleWatermarkMs: 1000, allowedLatenessMs: 0 } });
    });
    after(() => t.stop());
    const db = (): string => t.engine.context.backends.warehouse.database;
    const query = <T>(sql: string): Promise<T[]> => t.engine.context.backends.warehouse.query<T>(sql);

    it('bills each impression once, with price, and stores the closed session', async () => {
      const campaign = `cmp-${randomUUID().slice(0, 8)}`;
      const { token } = await adFor(t, { campaignId: campaign, pricing: { model: 'CPM', currency: 'USD', value: 12.5 } });
      const plays = Array.from({ length: 20 }, () => `s-${randomUUID()}`);
      const events = plays.flatMap((s) => [playEvent(token, s, `${s}-1`, 'impression'), playEvent(token, s, `${s}-1`, 'start'), playEvent(token, s, `${s}-1`, 'complete')]);
      await sendEvents(t, events);
      await sendEvents(t, events.slice(0, 5)); // device retries: duplicates the pipeline drops

      await waitFor('20 billable rows', async () => {
        const [row] = await query<{ n: string }>(`SELECT count() AS n FROM ${db()}.billable_impressions FINAL WHERE campaign_id = '${campaign}'`);
        return Number(row!.n) >= 20;
      }, 60_000, 250);
      const [billing] = await query<{ n: string; spend: string; currency: string }>(
        `SELECT count() AS n, toString(sum(price)) AS spend, any(currency) AS currency FROM ${db()}.billable_impressions FINAL WHERE campaign_id = '${campaign}'`,
      );
      assert.deepEqual({ n: Number(billing!.n), spend: billing!.spend, currency: billing!.currency }, { n: 20, spend: '0.25', currency: 'USD' });
      const [hourly] = await query<{ impressions: string; uniques: string; completes: string }>(
        `SELECT sum(impressions) AS impressions, uniqMerge(uniques) AS uniques, sum(completes) AS completes FROM ${db()}.campaign_hourly WHERE campaign_id = '${campaign}'`,
      );
      assert.deepEqual({ i: Number(hourly!.impressions), c: Number(hourly!.completes) }, { i: 20, c: 20 });
      assert.equal(Number(hourly!.uniques), 1, 'the test viewer is one profile');
      await waitFor('20 sessions', async () => {
        const [row] = await query<{ n: string }>(`SELECT count() AS n FROM ${db()}.ad_sessions FINAL WHERE campaign_id = '${campaign}' AND completed = 1`);
        return Number(row!.n) === 20;
      }, 60_000, 250);
    });

    it('ignores a retried insert of the same rows (deduplication token)', async () => {
      const campaign = `cmp-${randomUUID().slice(0, 8)}`;
      const sink = new ClickHouseSink(t.engine.context.backends.warehouse);
      const outputs = Array.from({ length: 3 }, (_, i) => {
        const event = new PipelineEvent({ record: { topic: TOPICS.raw, partition: 9, offset: String(1000 + i), key: null, value: Buffer.alloc(0), timestamp: 0, headers: {} }, originTopic: TOPICS.raw, originPartition: 9, originOffset: String(1000 + i) });
        event.enriched = enrichedFor(campaign, 1000 + i);
        event.routes = new Set(['warehouse', 'billing']);
        return { kind: 'event' as const, event };
      });
      assert.deepEqual(await sink.write(outputs), { status: 'delivered' });
      assert.deepEqual(await sink.write(outputs), { status: 'delivered' }); // the runtime retried after a lost answer
      const [raw] = await query<{ n: string }>(`SELECT count() AS n FROM ${db()}.billable_impressions WHERE campaign_id = '${campaign}'`);
      assert.equal(Number(raw!.n), 3, 'no duplicate rows, even without FINAL');
      const [hourly] = await query<{ i: string }>(`SELECT sum(impressions) AS i FROM ${db()}.campaign_hourly WHERE campaign_id = '${campaign}'`);
      assert.equal(Number(hourly!.i), 3, 'the hourly view is not double counted either');
    });

    it('dead-letters only the row ClickHouse refuses, and writes the rest of its batch', async () => {
      const campaign = `cmp-${randomUUID().slice(0, 8)}`;
      await t.engine.context.backends.warehouse.command(`ALTER TABLE ${db()}.ad_events ADD CONSTRAINT no_poison CHECK ad_id != 'poison-ad'`);
      try {
        const poison = await adFor(t, { campaignId: campaign, adId: 'poison-ad' });
        const good = await adFor(t, { campaignId: campaign, adId: 'good-ad' });
        const session = `s-${randomUUID()}`;
        const bad = playEvent(poison.token, session, `${session}-p`, 'start');
        await sendEvents(t, [playEvent(good.token, session, `${session}-g`, 'start'), bad, playEvent(good.token, session, `${session}-g`, 'firstQuartile')]);
        const dead = await readTopic(t.engine.context.backends.transport, TOPICS.deadLetter, 1, (r) => r.value!.includes(bad['eventId'] as string), 60_000);
        const letter = await t.engine.context.codec.decode(TOPICS.deadLetter, dead[0]!.value!);
        assert.equal(letter.code, 'SINK_CLICKHOUSE_ROW_REJECTED');
        assert.equal(letter.stage, 'sinks/clickhouse');
        const rows = await query<{ ad_id: string; event_type: string }>(`SELECT ad_id, event_type FROM ${db()}.ad_events WHERE campaign_id = '${campaign}' ORDER BY event_type`);
        assert.deepEqual(rows, [{ ad_id: 'good-ad', event_type: 'firstQuartile' }, { ad_id: 'good-ad', event_type: 'start' }]);
      } finally {
        await t.engine.context.backends.warehouse.command(`ALTER TABLE ${db()}.ad_events DROP CONSTRAINT no_poison`);
      }
    });
  });
}

function enrichedFor(campaign: string, offset: number): EnrichedAdEvent {
  const now = Date.now();
  return {
    eventId: randomUUID(), eventType: 'impression', playbackSessionId: 'p', adInstanceId: 'a', occurredAt: now, receivedAt: now, processedAt: now, skewMs: 0,
    adPlayheadMs: null, errorCode: null, metadataId: 'm', adId: 'ad', creativeId: 'cr', campaignId: campaign, lineItemId: '', advertiserId: 'adv', podSequence: 1,
    pricingModel: 'CPM', priceMicros: 10_000, currency: 'USD', deviceClass: 'ctv', osName: '', country: 'US', appName: '', appVersion: '', profileHash: 'ph',
    deviceHash: '', ipHash: '', hashKeyId: 'h1', vendorIds: {}, consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
    live: null, source: { topic: TOPICS.raw, partition: 9, offset },
  };
}
