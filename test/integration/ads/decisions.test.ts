/**
 * POST /v1/decisions on both backend sets, against a local VAST server: pods within
 * their limits, the buffet filling failed, capped and too-long slots,
 * fallbackOnNoAd, several sources with a slow one, frequency caps read at decision
 * time, Error URIs fired with their codes, and requests refused with the field named.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { countImpression } from '../../../src/ads/caps/count-impression.ts';
import { parseCapRules } from '../../../src/ads/caps/cap-rules.ts';
import { loadCapKey, profileKeyOf } from '../../../src/ads/caps/profile-key.ts';
import { MetadataRegistry } from '../../../src/ads/registry/metadata-registry.ts';
import { loadTokenKeyring } from '../../../src/ads/tokens/load-keyring.ts';
import { TokenService } from '../../../src/ads/tokens/token-service.ts';
import type { DecisionResponse } from '../../../src/ads/decision/decision-response.ts';
import { EMPTY_VAST, inlineAd, vast, wrapperAd } from '../../fixtures/ads/vast.ts';
import { backendSets, type TestEngine } from '../../helpers/engine.ts';
import { startAdsManager } from './ads-engine.ts';
import { post } from '../../helpers/http.ts';
import { uniqueName, waitFor } from '../../helpers/wait.ts';
import { startVastServer, type VastServer } from '../vast/vast-server.ts';

const request = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  playbackSessionId: uniqueName('ps'),
  contentId: 'movie-42',
  breakPosition: 'preroll',
  device: { ip: '203.0.113.7', userAgent: 'Roku/DVP-12.0', profileId: uniqueName('viewer') },
  consent: { gdprApplies: true, tcf: 'CPXxRfAPXxRfA', limitAdTracking: false },
  ...overrides,
});

for (const set of backendSets()) {
  describe(`decisions on ${set.name} backends`, { skip: set.skip }, () => {
    let server: VastServer;
    let engine: TestEngine;
    let host = '';
    /** Request headers of the second source, by [TRANSACTIONID] (the decision id). */
    const seenHeaders = new Map<string, IncomingHttpHeaders>();
    before(async () => {
      server = await startVastServer({
        '/pod': () => ({
          body: vast(
            inlineAd({ id: 'p1', sequence: 1, durationSec: 30, host, campaignId: 'cmp-a', lineItemId: 'li-a', advertiserId: 'adv-a' }),
            inlineAd({ id: 'p2', sequence: 2, durationSec: 30, host, mediaType: 'video/x-flv' }),
            inlineAd({ id: 'p3', sequence: 3, durationSec: 60, host, campaignId: 'cmp-c' }),
            inlineAd({ id: 'p4', sequence: 4, durationSec: 15, host, campaignId: 'cmp-d' }),
            inlineAd({ id: 'b1', durationSec: 15, host, campaignId: 'cmp-b' }),
            inlineAd({ id: 'b2', durationSec: 10, host, campaignId: 'cmp-b2' }),
          ),
        }),
        '/fallback': () => ({
          body: vast(
            wrapperAd({ id: 'w-yes', sequence: 1, next: `${host}/empty`, host, attributes: 'fallbackOnNoAd="true"' }),
            wrapperAd({ id: 'w-no', sequence: 2, next: `${host}/empty`, host, attributes: 'fallbackOnNoAd="false"' }),
            inlineAd({ id: 'fb', durationSec: 15, host }),
          ),
        }),
        '/empty': { body: EMPTY_VAST },
        '/second': (req) => {
          seenHeaders.set(new URL(req.url ?? '/', 'http://x').searchParams.get('tx') ?? '', req.headers);
          return { body: vast(inlineAd({ id: 's1', durationSec: 15, host, campaignId: 'cmp-s' })) };
        },
        '/slow': { body: vast(inlineAd({ id: 'slow', durationSec: 15, host })), delayMs: 2_000 },
      });
      host = server.url('').replace(/\/$/, '');
      const source = (id: string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id, url: `${host}${path}`, ...extra });
      engine = await startAdsManager(set, {
        ads: {
          sourceTimeoutMs: 700,
          sources: [
            source('pod', '/pod?ip=[DEVICEIP]&consent=[GDPRCONSENT]&tx=[TRANSACTIONID]&pos=[BREAKPOSITION]&max=[BREAKMAXDURATION]&cohort=[QUARTILE_COHORT]'),
            source('second', '/second?tx=[TRANSACTIONID]'),
            source('slow', '/slow'),
          ],
          capRules: [{ scope: 'campaign', max: 1, window: '24h' }],
        },
      });
    });
    after(async () => {
      await engine?.stop();
      await server?.close();
    });

    const decide = (body: Record<string, unknown>) => post<DecisionResponse & { code?: string; field?: string }>(`${engine.url}/v1/decisions`, body);
    const tokens = (): TokenService => new TokenService(loadTokenKeyring(engine.config).keyring, { ttlSeconds: engine.config.tokens.ttlSeconds, binding: 'none' });

    it('assembles a pod in sequence, filling failed and too-long slots from the buffet, within the limits', async () => {
      const started = Date.now();
      const response = await decide(request({ podMaxDurationMs: 90_000, podMaxAds: 4 }));
      assert.ok(Date.now() - started < 1_500, 'the slow source (2 s) is left out at its 700 ms deadline');
      assert.equal(response.status, 200);
      assert.equal(response.headers['cache-control'], 'no-store');
      const { body } = response;
      assert.equal(body.source, 'vast');
      // p1 plays; p2 has no playable media → b1; p3 (60 s) does not fit → b2; p4 fits; the slow source is left out.
      assert.deepEqual(
        body.ads.map((a) => [a.sequence, a.adId]),
        [
          [1, 'p1'],
          [2, 'b1'],
          [3, 'b2'],
          [4, 'p4'],
        ],
      );
      assert.equal(body.durationMs, 70_000);
      assert.match(body.decisionId, /^[0-9a-f-]{36}$/);
      const first = body.ads[0]!;
      assert.deepEqual([first.campaignId, first.lineItemId, first.advertiserId, first.creativeId], ['cmp-a', 'li-a', 'adv-a', 'p1-cr'], 'campaign identity from <Extension type="quartile">');
      assert.deepEqual(first.mediaFiles[0], { uri: 'https://cdn.example/p1.mp4', type: 'video/mp4', delivery: 'progressive', width: 1280, height: 720, bitrate: 2000, codec: null });
      assert.equal(first.clickThrough, 'https://brand.example/p1');
      assert.ok(!JSON.stringify(body).includes(host), 'devices never receive vendor or tracking URLs');
    });

    it('gives each ad a token under the size budget that names its registry entry', async () => {
      const { body } = await decide(request({ podMaxAds: 2 }));
      const registry = new MetadataRegistry(engine.engine.context.backends.state);
      for (const ad of body.ads) {
        assert.ok(Buffer.byteLength(ad.token) <= 350, `token of ${Buffer.byteLength(ad.token)} bytes`);
        const claims = tokens().decrypt(ad.token);
        assert.equal(claims.seq, ad.sequence);
        assert.equal(claims.ad, ad.adId);
        assert.equal(claims.cmp, ad.campaignId);
        assert.equal(claims.brk, null);
        const metadata = await registry.get(claims.mid);
        assert.equal(metadata?.adId, ad.adId);
        assert.ok(metadata!.impressionUris.some((u) => u.startsWith(host)), 'the tracking URLs are in the registry instead');
      }
    });

    it('fills request macros and sends the device in server-side headers', async () => {
      const { body } = await decide(request({ breakPosition: 'midroll', podMaxDurationMs: 120_000, country: 'US' }));
      const hit = server.hits.find((h) => h.includes(body.decisionId));
      assert.ok(hit, 'the source was asked with [TRANSACTIONID] = the decision id');
      const query = new URL(hit, host).searchParams;
      assert.equal(query.get('ip'), '203.0.113.7');
      assert.equal(query.get('consent'), 'CPXxRfAPXxRfA');
      assert.equal(query.get('pos'), '2');
      assert.equal(query.get('max'), '120');
      assert.equal(query.get('cohort'), 'US.ctv.personalized');
      const headers = seenHeaders.get(body.decisionId)!;
      assert.equal(headers['x-device-ip'], '203.0.113.7');
      assert.equal(headers['x-device-user-agent'], 'Roku/DVP-12.0');
      assert.match(String(headers['user-agent']), /^Quartile/);
    });

    it('fires the Error URI of an ad with no playable media with IAB 403', async () => {
      await decide(request());
      await waitFor('the 403 of the ad with no playable media', () => server.hits.some((h) => h === '/err/p2?code=403'), 5_000);
    });

    it('honours fallbackOnNoAd: a buffet ad takes the slot of a wrapper that asked for it, not of one that did not', async () => {
      const fallbackEngine = await startAdsManager(set, { ads: { sources: [{ id: 'fb', url: `${host}/fallback` }] } });
      try {
        const { body } = await post<DecisionResponse>(`${fallbackEngine.url}/v1/decisions`, request());
        assert.deepEqual(
          body.ads.map((a) => a.adId),
          ['fb'],
        );
        await waitFor('the no-ad error of the wrapper without fallback', () => server.hits.some((h) => h === '/err/w-no?code=303'), 5_000);
      } finally {
        await fallbackEngine.stop();
      }
    });

    it('leaves out an ad the viewer is capped on, as counted by the pipeline, and replaces it', async () => {
      const viewer = uniqueName('capped-viewer');
      const profileKey = profileKeyOf(loadCapKey(engine.config), viewer, null)!;
      const rules = parseCapRules(engine.config.ads.capRules);
      const state = engine.engine.context.backends.state;
      const before = await decide(request({ device: { profileId: viewer }, podMaxAds: 2 }));
      assert.deepEqual(
        before.body.ads.map((a) => a.adId),
        ['p1', 'b1'],
      );
      const seen = { eventId: randomUUID(), profileKey, campaignId: 'cmp-a', lineItemId: 'li-a', creativeId: 'p1-cr', advertiserId: 'adv-a', liveEventId: null, occurredAt: Date.now() };
      assert.deepEqual(await countImpression(state, rules, seen), { counted: true });
      const after = await decide(request({ device: { profileId: viewer }, podMaxAds: 2 }));
      assert.deepEqual(
        after.body.ads.map((a) => a.adId),
        ['b1', 'b2'],
        'cmp-a is at its cap of 1 per 24h: its slot goes to the buffet',
      );
      const other = await decide(request({ device: { profileId: uniqueName('fresh-viewer') }, podMaxAds: 2 }));
      assert.equal(other.body.ads[0]!.adId, 'p1', 'other viewers are not affected');
      const metrics = await (await fetch(`${engine.url}/metrics`)).text();
      assert.match(metrics, /quartile_ads_capped_total\{scope="campaign"[^}]*\} [1-9]/);
      assert.match(metrics, /quartile_ads_vast_errors_total\{code="403",reason="DECISION_NO_PLAYABLE_MEDIA"[^}]*\} [1-9]/);
      assert.match(metrics, /quartile_ads_decisions_total\{kind="vod",result="filled"[^}]*\} [1-9]/);
    });

    it('refuses a bad request with DECISION_BAD_REQUEST naming the field', async () => {
      const cases: Array<[unknown, string]> = [
        [{ ...request(), breakPosition: 'overlay' }, 'breakPosition'],
        [{ ...request(), podMaxAds: 'five' }, 'podMaxAds'],
        [{ ...request(), device: { ip: 7 } }, 'device.ip'],
        ['{"playbackSessionId":', 'body'],
      ];
      for (const [body, field] of cases) {
        const response = typeof body === 'string' ? await post(`${engine.url}/v1/decisions`, body, { raw: true }) : await decide(body as Record<string, unknown>);
        assert.equal(response.status, 400, field);
        assert.equal(response.body.code, 'DECISION_BAD_REQUEST');
        assert.equal(response.body.field, field);
      }
    });

    it('answers a decision for an unknown break with a cacheable 404 and a jittered Retry-After', async () => {
      const response = await decide(request({ liveEventId: 'ev', breakId: uniqueName('nobreak') }));
      assert.equal(response.status, 404);
      assert.equal(response.body.code, 'LIVE_BREAK_UNKNOWN');
      assert.equal(response.headers['cache-control'], 'public, max-age=1');
      assert.ok([1, 2, 3].includes(Number(response.headers['retry-after'])));
    });
  });
}

describe('decisions while the state store is out of reach', () => {
  it('answers 503 with the backend code and a Retry-After, not a 500', async () => {
    const server = await startVastServer({ '/vast': { body: vast(inlineAd({ id: 'a1', sequence: 1, host: 'https://px.example' })) } });
    // Nothing listens on port 1: every Redis command fails after its retries.
    const engine = await startAdsManager(
      { name: 'embedded', skip: false, env: { QUARTILE_REDIS_URL: 'redis://127.0.0.1:1' } },
      { ads: { sources: [{ id: 'vast', url: server.url('/vast') }] } },
    );
    try {
      const response = await post<{ code: string }>(`${engine.url}/v1/decisions`, request());
      assert.equal(response.status, 503);
      assert.equal(response.body.code, 'STATE_UNAVAILABLE');
      assert.ok(Number(response.headers['retry-after']) >= 1);
    } finally {
      await engine.stop();
      await server.close();
    }
  });
});
