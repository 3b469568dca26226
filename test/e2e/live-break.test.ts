/**
 * One live ad break, from decision to billed row, on both backend sets: the live
 * origin cues the break; the Ads Manager prefetches the pod from a local ad server;
 * a herd of viewers gets decisions from the prefetched pod; their devices report
 * playback through the producer client; the pipeline decrypts, resolves, enriches and
 * sessionizes; ClickHouse bills every impression exactly once, duplicates included.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { createTelemetryClient } from '../../src/client/index.ts';
import type { DecisionResponse } from '../../src/ads/decision/decision-response.ts';
import { inlineAd, vast } from '../fixtures/ads/vast.ts';
import { backendSets, startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { post } from '../helpers/http.ts';
import { uniqueName, waitFor } from '../helpers/wait.ts';
import { startVastServer, type VastServer } from '../integration/vast/vast-server.ts';

const VIEWERS = 24;
const JOURNEY = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'] as const;

for (const set of backendSets()) {
  describe(`a live ad break end to end on ${set.name} backends`, { skip: set.skip, timeout: 240_000 }, () => {
    let server: VastServer;
    let t: TestEngine;
    let host = '';
    const campaign = `cmp-${randomUUID().slice(0, 8)}`;
    before(async () => {
      server = await startVastServer({
        '/live': () => ({
          body: vast(
            inlineAd({ id: 'spot-a', sequence: 1, durationSec: 15, host, campaignId: campaign, advertiserId: 'adv-1' }),
            inlineAd({ id: 'spot-b', sequence: 2, durationSec: 15, host, campaignId: campaign, advertiserId: 'adv-1' }),
          ),
        }),
      });
      host = server.url('').replace(/\/$/, '');
      t = await startTestEngine(set, {
        ads: { allowPrivateNetwork: true, sources: [{ id: 'live', url: `${host}/live?brk=[QUARTILE_BREAK_ID]` }], fireErrorUris: false },
        live: { cueGroupId: uniqueName('cues') },
        pipeline: { groupId: uniqueName('pipeline') },
      });
    });
    after(async () => {
      await t?.stop();
      await server?.close();
    });

    it('bills every impression of the herd once, and closes every ad session', async () => {
      const liveEventId = uniqueName('final');
      const breakId = uniqueName('brk');
      const cue = await post(`${t.url}/v1/live/cues`, { liveEventId, breakId, startsAt: Date.now() + 5_000, durationMs: 30_000, podMaxAds: 2 });
      assert.equal(cue.status, 202);
      await waitFor('the break plan', async () => (await request(`${t.url}/v1/live/breaks/${breakId}`)).statusCode === 200, 60_000, 200);
      const vastFetches = server.hits.length;

      const decisions = await Promise.all(
        Array.from({ length: VIEWERS }, (_, i) =>
          post<DecisionResponse>(`${t.url}/v1/decisions`, {
            playbackSessionId: `ps-${randomUUID()}`,
            contentId: 'final-live',
            breakPosition: 'midroll',
            liveEventId,
            breakId,
            device: { userAgent: 'Roku/DVP-12.0 (12.0.0.4182)', deviceId: `device-${i}`, profileId: `profile-${i}` },
            consent: { gdprApplies: false },
          }),
        ),
      );
      assert.ok(decisions.every((d) => d.status === 200 && d.body.ads.length === 2), JSON.stringify(decisions[0]?.body));
      assert.equal(server.hits.length, vastFetches, 'the herd is served from the prefetched pod, with no VAST fetch');

      const client = createTelemetryClient({ endpoint: t.url, maxBatchEvents: 50, flushIntervalMs: 50 });
      const sent = new Set<string>();
      decisions.forEach((d, viewer) => {
        const playbackSessionId = (JSON.parse(JSON.stringify(d.body)) as { playbackSessionId: string }).playbackSessionId;
        for (const ad of d.body.ads) {
          const adInstanceId = `${playbackSessionId}-${ad.sequence}`;
          for (const [i, eventType] of JOURNEY.entries()) {
            const id = client.track({
              eventType,
              token: ad.token,
              playbackSessionId,
              adInstanceId,
              adPlayheadMs: i * 3750,
              device: { deviceId: `device-${viewer}`, profileId: `profile-${viewer}`, userAgent: 'Roku/DVP-12.0 (12.0.0.4182)' },
              consent: { gdprApplies: false },
              live: { liveEventId, breakId },
            });
            sent.add(id);
          }
        }
      });
      // A device that retried its first impression: the same event id again.
      const first = decisions[0]!.body;
      const firstSession = (JSON.parse(JSON.stringify(first)) as { playbackSessionId: string }).playbackSessionId;
      client.track({ eventId: [...sent][0]!, eventType: 'impression', token: first.ads[0]!.token, playbackSessionId: firstSession, adInstanceId: `${firstSession}-1` });
      await client.close();
      assert.equal(client.stats().accepted, VIEWERS * 2 * JOURNEY.length + 1);

      const warehouse = t.engine.context.backends.warehouse;
      const db = warehouse.database;
      const billed = async (): Promise<{ n: number; spend: string; breaks: number }> => {
        const [row] = await warehouse.query<{ n: string; spend: string; breaks: string }>(
          `SELECT count() AS n, toString(sum(price)) AS spend, uniqExact(break_id) AS breaks FROM ${db}.billable_impressions FINAL WHERE campaign_id = '${campaign}'`,
        );
        return { n: Number(row!.n), spend: row!.spend, breaks: Number(row!.breaks) };
      };
      await waitFor('every impression billed', async () => (await billed()).n >= VIEWERS * 2, 120_000, 500);
      // 48 impressions at a 12.5 USD CPM.
      assert.deepEqual(await billed(), { n: VIEWERS * 2, spend: '0.6', breaks: 1 });
      await waitFor('every ad session closed as complete', async () => {
        const [row] = await warehouse.query<{ n: string }>(`SELECT count() AS n FROM ${db}.ad_sessions FINAL WHERE campaign_id = '${campaign}' AND completed = 1 AND quartiles_reached = 4`);
        return Number(row!.n) === VIEWERS * 2;
      }, 120_000, 500);
      const [hourly] = await warehouse.query<{ impressions: string; uniques: string }>(
        `SELECT sum(impressions) AS impressions, uniqMerge(uniques) AS uniques FROM ${db}.campaign_hourly WHERE campaign_id = '${campaign}'`,
      );
      assert.equal(Number(hourly!.impressions), VIEWERS * 2);
      assert.equal(Number(hourly!.uniques), VIEWERS, 'one unique viewer per profile');
    });
  });
}
