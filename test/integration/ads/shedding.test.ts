/**
 * Priority-aware load shedding on both backend sets: under overload live-break
 * decisions are still served while VOD decisions are shed with 503 and a jittered
 * Retry-After, and a break's prefetch waits for load to drop.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'undici';
import type { DecisionResponse } from '../../../src/ads/decision/decision-response.ts';
import { inlineAd, vast } from '../../fixtures/ads/vast.ts';
import { backendSets, type TestEngine } from '../../helpers/engine.ts';
import { startAdsManager } from './ads-engine.ts';
import { post } from '../../helpers/http.ts';
import { sleep, uniqueName, waitFor } from '../../helpers/wait.ts';
import { startVastServer, type VastServer } from '../vast/vast-server.ts';

for (const set of backendSets()) {
  describe(`load shedding on ${set.name} backends`, { skip: set.skip }, () => {
    let server: VastServer;
    let engine: TestEngine;
    let host = '';
    let vodDelayMs = 1_200;
    const liveEventId = uniqueName('ev');
    before(async () => {
      server = await startVastServer({
        // VOD requests have no break id ([QUARTILE_BREAK_ID] = -1) and are slow; prefetches are fast.
        '/ads': (req) => ({
          body: vast(inlineAd({ id: 'a1', sequence: 1, host })),
          delayMs: new URL(req.url ?? '/', 'http://x').searchParams.get('brk') === '-1' ? vodDelayMs : 0,
        }),
      });
      host = server.url('').replace(/\/$/, '');
      engine = await startAdsManager(set, {
        ads: {
          sourceTimeoutMs: 5_000,
          requestTimeoutMs: 5_000,
          sources: [{ id: 'ads', url: `${host}/ads?brk=[QUARTILE_BREAK_ID]` }],
          maxInFlight: 10,
          shedVodLagMs: 200,
          shedLiveLagMs: 2_000,
        },
      });
    });
    after(async () => {
      await engine?.stop();
      await server?.close();
    });

    const decide = (breakId: string | null) =>
      post<DecisionResponse & { code?: string }>(`${engine.url}/v1/decisions`, {
        playbackSessionId: uniqueName('ps'),
        contentId: 'c',
        breakPosition: 'midroll',
        ...(breakId === null ? {} : { liveEventId, breakId }),
      });
    const cue = (breakId: string) => post(`${engine.url}/v1/live/cues`, { liveEventId, breakId, startsAt: Date.now() + 30_000, durationMs: 30_000 });
    const planStatus = async (breakId: string): Promise<number> => {
      const response = await httpRequest(`${engine.url}/v1/live/breaks/${breakId}`);
      await response.body.dump();
      return response.statusCode;
    };
    const shed = async (priority: string): Promise<number> => {
      const text = await (await httpRequest(`${engine.url}/metrics`)).body.text();
      return Number(new RegExp(`quartile_ads_shed_total\\{priority="${priority}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
    };

    it('keeps serving live-break decisions and defers prefetch while VOD decisions are shed', async () => {
      const liveBreak = uniqueName('brk');
      await cue(liveBreak);
      await waitFor('the live break ready', async () => (await planStatus(liveBreak)) === 200, 30_000, 100);

      // Eight slow VOD decisions hold 80% of ads.maxInFlight.
      const slow = Array.from({ length: 8 }, () => decide(null));
      await waitFor('the slow VOD decisions at the ad server', () => server.hits.filter((h) => h.includes('brk=-1')).length >= 8, 5_000);

      const vod = await decide(null);
      assert.equal(vod.status, 503);
      assert.equal(vod.body.code, 'DECISION_OVERLOADED');
      const retryAfter = Number(vod.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 5, `Retry-After ${retryAfter}`);

      const live = await decide(liveBreak);
      assert.equal(live.status, 200, 'a live-break decision outranks VOD');
      assert.equal(live.body.source, 'prefetched');

      const deferred = uniqueName('brk');
      await cue(deferred);
      await sleep(500);
      assert.equal(await planStatus(deferred), 503, 'the prefetch waits while decisions fill the Ads Manager');
      assert.ok((await shed('prefetch')) >= 1);

      for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
      await waitFor('the deferred prefetch to run once load drops', async () => (await planStatus(deferred)) === 200, 15_000, 100);
      assert.ok((await shed('vod')) >= 1);
    });

    it('sheds VOD but not live decisions while the event loop lags', async () => {
      const liveBreak = uniqueName('brk');
      await cue(liveBreak);
      await waitFor('the live break ready', async () => (await planStatus(liveBreak)) === 200, 30_000, 100);
      vodDelayMs = 0;
      // Block the event loop for 300 ms (over ads.shedVodLagMs, under ads.shedLiveLagMs).
      const until = Date.now() + 300;
      while (Date.now() < until);
      await sleep(40);
      const [vod, live] = await Promise.all([decide(null), decide(liveBreak)]);
      assert.equal(vod.status, 503);
      assert.equal(vod.body.code, 'DECISION_OVERLOADED');
      assert.equal(live.status, 200);
      await sleep(2_100);
      assert.equal((await decide(null)).status, 200, 'served again once the lag is gone');
    });
  });
}
