/**
 * Live ad breaks on both backend sets: a cue (POST or the live.cues topic) is
 * prefetched per cohort before the break; the herd is then served from the
 * prefetched pods, with per-viewer caps and no VAST fetch; the break plan is
 * cacheable; unknown and not-ready breaks answer short, cacheable refusals.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'undici';
import { countImpression } from '../../../src/ads/caps/count-impression.ts';
import { parseCapRules } from '../../../src/ads/caps/cap-rules.ts';
import { loadCapKey, profileKeyOf } from '../../../src/ads/caps/profile-key.ts';
import type { DecisionResponse } from '../../../src/ads/decision/decision-response.ts';
import { loadTokenKeyring } from '../../../src/ads/tokens/load-keyring.ts';
import { TokenService } from '../../../src/ads/tokens/token-service.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import { inlineAd, vast } from '../../fixtures/ads/vast.ts';
import { backendSets, type TestEngine } from '../../helpers/engine.ts';
import { startAdsManager } from '../ads/ads-engine.ts';
import { post } from '../../helpers/http.ts';
import { sleep, uniqueName, waitFor } from '../../helpers/wait.ts';
import { startVastServer, type VastServer } from '../vast/vast-server.ts';

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

async function get<T = Record<string, unknown>>(url: string): Promise<Answer<T>> {
  const response = await httpRequest(url);
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as T };
}

const US_ROKU = { userAgent: 'Roku/DVP-12.0 (12.0.0.4182)' };

for (const set of backendSets()) {
  describe(`live breaks on ${set.name} backends`, { skip: set.skip }, () => {
    let server: VastServer;
    let engine: TestEngine;
    let host = '';
    let delayMs = 0;
    const liveEventId = uniqueName('final');
    before(async () => {
      server = await startVastServer({
        '/live': (req) => {
          const cohort = new URL(req.url ?? '/', 'http://x').searchParams.get('cohort');
          const body =
            cohort === 'US.ctv.personalized'
              ? vast(inlineAd({ id: 'us1', sequence: 1, host, campaignId: 'cmp-us' }), inlineAd({ id: 'us2', sequence: 2, host, campaignId: 'cmp-us2' }))
              : vast(
                  inlineAd({ id: 'g1', sequence: 1, host, campaignId: 'cmp-g1' }),
                  inlineAd({ id: 'g2', sequence: 2, host, campaignId: 'cmp-g2' }),
                  inlineAd({ id: 'alt1', host, campaignId: 'cmp-alt' }),
                );
          return { body, delayMs };
        },
      });
      host = server.url('').replace(/\/$/, '');
      engine = await startAdsManager(set, {
        ads: {
          sourceTimeoutMs: 5_000,
          requestTimeoutMs: 5_000,
          sources: [{ id: 'live', url: `${host}/live?cohort=[QUARTILE_COHORT]&brk=[QUARTILE_BREAK_ID]` }],
          capRules: [{ scope: 'creative', max: 1, window: 'live-event' }],
        },
        live: { cohorts: ['US.ctv.personalized'] },
      });
    });
    after(async () => {
      await engine?.stop();
      await server?.close();
    });

    const cue = (breakId: string, overrides: Record<string, unknown> = {}) =>
      post(`${engine.url}/v1/live/cues`, { liveEventId, breakId, startsAt: Date.now() + 20_000, durationMs: 30_000, podMaxAds: 2, ...overrides });
    const decide = (breakId: string, overrides: Record<string, unknown> = {}) =>
      post<DecisionResponse & { code?: string; field?: string }>(`${engine.url}/v1/decisions`, {
        playbackSessionId: uniqueName('ps'),
        contentId: liveEventId,
        liveEventId,
        breakId,
        breakPosition: 'midroll',
        device: { profileId: uniqueName('viewer') },
        ...overrides,
      });
    const ready = (breakId: string) => waitFor(`break ${breakId} ready`, async () => (await get(`${engine.url}/v1/live/breaks/${breakId}`)).status === 200, 30_000, 100);
    const tokens = (): TokenService => new TokenService(loadTokenKeyring(engine.config).keyring, { ttlSeconds: 3600, binding: 'none' });

    it('prefetches a cued break per cohort, then serves the herd with no VAST fetch and no new token', async () => {
      const breakId = uniqueName('brk');
      const accepted = await cue(breakId);
      assert.equal(accepted.status, 202);
      assert.deepEqual(accepted.body, { liveEventId, breakId, status: 'pending', plan: `/v1/live/breaks/${breakId}` });
      await ready(breakId);
      const fetched = server.hits.filter((h) => h.includes(breakId));
      assert.deepEqual(fetched.map((h) => new URL(h, host).searchParams.get('cohort')).sort(), ['*', 'US.ctv.personalized'], 'one VAST request per cohort');

      const herd = await Promise.all(Array.from({ length: 200 }, (_, i) => decide(breakId, i % 4 === 0 ? { country: 'US', device: { ...US_ROKU, profileId: uniqueName('v') } } : {})));
      assert.equal(server.hits.filter((h) => h.includes(breakId)).length, fetched.length, 'no VAST fetched at herd time');
      for (const [i, { status, body }] of herd.entries()) {
        assert.equal(status, 200);
        assert.equal(body.source, 'prefetched');
        assert.deepEqual(
          body.ads.map((a) => a.adId),
          i % 4 === 0 ? ['us1', 'us2'] : ['g1', 'g2'],
        );
        assert.equal(body.cohort, i % 4 === 0 ? 'US.ctv.personalized' : '*');
      }
      const defaultTokens = new Set(herd.filter((_, i) => i % 4 !== 0).map((r) => r.body.ads[0]!.token));
      assert.equal(defaultTokens.size, 1, 'binding none: every viewer of the cohort shares the prefetched token');
      const claims = tokens().decrypt([...defaultTokens][0]!);
      assert.deepEqual([claims.brk, claims.seq, claims.ad, claims.cmp, claims.sid], [breakId, 1, 'g1', 'cmp-g1', null]);
    });

    it('prefetches a cue itself when the event log does not take it, so the break still happens', async () => {
      const transport = engine.engine.context.backends.transport;
      const send = transport.send.bind(transport);
      // The event log refuses the cue (a broker restarting): the cue must not be lost.
      transport.send = async (topic, records) => {
        if (topic.endsWith('live.cues')) throw new Error('the event log is restarting');
        return send(topic, records);
      };
      try {
        const breakId = uniqueName('brk');
        const accepted = await cue(breakId);
        assert.equal(accepted.status, 202);
        await ready(breakId);
        const answer = await decide(breakId);
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body.ads.map((a) => a.adId), ['g1', 'g2']);
      } finally {
        transport.send = send;
      }
    });

    it('serves the break plan with Cache-Control so a CDN absorbs the herd', async () => {
      const breakId = uniqueName('brk');
      await cue(breakId);
      await ready(breakId);
      const plan = await get<{ breakId: string; cohorts: Record<string, { ads: Array<{ adId: string; token: string }> }> }>(`${engine.url}/v1/live/breaks/${breakId}`);
      const maxAge = Number(/^public, max-age=(\d+)$/.exec(String(plan.headers['cache-control']))?.[1]);
      assert.ok(maxAge >= 1 && maxAge <= 30, `max-age ${maxAge}`);
      assert.deepEqual(Object.keys(plan.body.cohorts).sort(), ['*', 'US.ctv.personalized']);
      assert.deepEqual(
        plan.body.cohorts['*']!.ads.map((a) => a.adId),
        ['g1', 'g2'],
      );
      const etag = String(plan.headers['etag']);
      const revalidated = await httpRequest(`${engine.url}/v1/live/breaks/${breakId}`, { headers: { 'if-none-match': etag } });
      await revalidated.body.dump();
      assert.equal(revalidated.statusCode, 304, 'a CDN revalidates with the ETag');
      const one = await get<{ cohorts: Record<string, unknown> }>(`${engine.url}/v1/live/breaks/${breakId}?cohort=JP.ctv.personalized`);
      assert.deepEqual(Object.keys(one.body.cohorts), ['*'], 'a cohort that was not prefetched gets the catch-all pod');
    });

    it('replaces an ad the viewer is capped on from the alternates, with a token for its new place', async () => {
      const breakId = uniqueName('brk');
      await cue(breakId);
      await ready(breakId);
      const viewer = uniqueName('capped');
      const rules = parseCapRules(engine.config.ads.capRules);
      const seen = (creativeId: string) =>
        countImpression(engine.engine.context.backends.state, rules, {
          eventId: randomUUID(),
          profileKey: profileKeyOf(loadCapKey(engine.config), viewer, null)!,
          campaignId: 'any',
          lineItemId: '',
          creativeId,
          advertiserId: '',
          liveEventId,
          occurredAt: Date.now(),
        });
      await seen('g1-cr');
      const capped = await decide(breakId, { device: { profileId: viewer } });
      assert.deepEqual(
        capped.body.ads.map((a) => [a.sequence, a.adId]),
        [
          [1, 'alt1'],
          [2, 'g2'],
        ],
      );
      const claims = tokens().decrypt(capped.body.ads[0]!.token);
      assert.deepEqual([claims.ad, claims.seq, claims.brk], ['alt1', 1, breakId], 'the alternate carries the token minted for place 1');
      await seen('alt1-cr');
      const dropped = await decide(breakId, { device: { profileId: viewer } });
      assert.deepEqual(
        dropped.body.ads.map((a) => [a.sequence, a.adId]),
        [[1, 'g2']],
        'capped on the alternate too: the slot is dropped',
      );
      const other = await decide(breakId);
      assert.deepEqual(
        other.body.ads.map((a) => a.adId),
        ['g1', 'g2'],
      );
    });

    it('takes cues from the live.cues topic (Avro AdBreakCue)', async () => {
      const breakId = uniqueName('brk');
      const { transport } = engine.engine.context.backends;
      const value = await engine.engine.context.codec.encode(TOPICS.liveCues, { liveEventId, breakId, startsAt: Date.now() + 20_000, durationMs: 30_000, podMaxAds: null, issuedAt: Date.now() });
      await transport.send(TOPICS.liveCues, [{ key: breakId, value }]);
      await ready(breakId);
      const { body } = await decide(breakId);
      assert.deepEqual(
        body.ads.map((a) => a.adId),
        ['g1', 'g2'],
      );
    });

    it('answers unknown and not-ready breaks with short cacheable refusals and a jittered Retry-After', async () => {
      const unknown = await get(`${engine.url}/v1/live/breaks/${uniqueName('never-cued')}`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body['code'], 'LIVE_BREAK_UNKNOWN');
      assert.equal(unknown.headers['cache-control'], 'public, max-age=1');
      assert.ok([1, 2, 3].includes(Number(unknown.headers['retry-after'])));

      delayMs = 1_500;
      try {
        const breakId = uniqueName('brk');
        await cue(breakId);
        const pending = await get(`${engine.url}/v1/live/breaks/${breakId}`);
        assert.equal(pending.status, 503);
        assert.equal(pending.body['code'], 'LIVE_BREAK_NOT_READY');
        assert.equal(pending.headers['cache-control'], 'public, max-age=1');
        const afters = new Set<number>();
        for (let i = 0; i < 20; i++) {
          const decision = await decide(breakId);
          assert.equal(decision.status, 503);
          assert.equal(decision.body.code, 'LIVE_BREAK_NOT_READY');
          afters.add(Number(decision.headers['retry-after']));
        }
        assert.ok([...afters].every((s) => s >= 1 && s <= 3) && afters.size > 1, `Retry-After is jittered: ${[...afters]}`);
        await ready(breakId);
        assert.equal((await decide(breakId)).status, 200);
      } finally {
        delayMs = 0;
      }
    });

    it('keeps a cue idempotent, and refuses a break id of another event, an ended break and a bad cue', async () => {
      const breakId = uniqueName('brk');
      await cue(breakId);
      await ready(breakId);
      const fetches = (): number => server.hits.filter((h) => h.includes(breakId)).length;
      const before = fetches();
      const again = await cue(breakId);
      assert.deepEqual([again.status, again.body['status']], [202, 'ready']);
      await sleep(300);
      assert.equal(fetches(), before, 'a repeated cue prefetches nothing');

      const conflict = await post(`${engine.url}/v1/live/cues`, { liveEventId: 'another-event', breakId, startsAt: Date.now() + 20_000, durationMs: 30_000 });
      assert.deepEqual([conflict.status, conflict.body['code'], conflict.body['field']], [409, 'LIVE_BREAK_CONFLICT', 'breakId']);

      const ended = await cue(uniqueName('brk'), { startsAt: Date.now() - 120_000 });
      assert.deepEqual([ended.status, ended.body['code']], [422, 'LIVE_CUE_EXPIRED']);

      const bad = await cue(uniqueName('brk'), { durationMs: 'thirty seconds' });
      assert.deepEqual([bad.status, bad.body['code'], bad.body['field']], [400, 'LIVE_BAD_CUE', 'durationMs']);

      const mismatch = await decide(breakId, { liveEventId: 'another-event' });
      assert.deepEqual([mismatch.status, mismatch.body.code, mismatch.body.field], [400, 'DECISION_BAD_REQUEST', 'liveEventId']);
    });

    it('mints a session-bound token per viewer when binding is session, and keeps tokens out of the shared plan', async () => {
      const bound = await startAdsManager(set, {
        tokens: { binding: 'session' },
        ads: { sources: [{ id: 'live', url: `${host}/live?cohort=[QUARTILE_COHORT]&brk=[QUARTILE_BREAK_ID]` }] },
      });
      try {
        const breakId = uniqueName('brk');
        await post(`${bound.url}/v1/live/cues`, { liveEventId, breakId, startsAt: Date.now() + 20_000, durationMs: 30_000, podMaxAds: 2 });
        await waitFor('ready', async () => (await get(`${bound.url}/v1/live/breaks/${breakId}`)).status === 200, 30_000, 100);
        const plan = await get<{ cohorts: Record<string, { ads: Array<Record<string, unknown>> }> }>(`${bound.url}/v1/live/breaks/${breakId}`);
        assert.ok(plan.body.cohorts['*']!.ads.every((a) => !('token' in a)));
        const sessions = [uniqueName('ps'), uniqueName('ps')];
        const answers = await Promise.all(
          sessions.map((playbackSessionId) =>
            post<DecisionResponse>(`${bound.url}/v1/decisions`, { playbackSessionId, contentId: 'x', liveEventId, breakId, breakPosition: 'midroll' }),
          ),
        );
        const service = new TokenService(loadTokenKeyring(bound.config).keyring, { ttlSeconds: 3600, binding: 'session' });
        assert.notEqual(answers[0]!.body.ads[0]!.token, answers[1]!.body.ads[0]!.token);
        assert.equal(service.decrypt(answers[0]!.body.ads[0]!.token, { playbackSessionId: sessions[0]! }).brk, breakId);
        assert.throws(() => service.decrypt(answers[0]!.body.ads[0]!.token, { playbackSessionId: sessions[1]! }), /another playback session/);
      } finally {
        await bound.stop();
      }
    });
  });
}
