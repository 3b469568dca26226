/**
 * The Control Room in a real browser, during a simulated live event, on both backend
 * sets. The live origin cues a break, a herd of viewers gets decisions from the
 * prefetched pod, their devices report impressions through the collector, and the
 * pipeline fires each impression's beacon at a local measurement vendor ("dv", on
 * 127.0.0.2) that counts its hits. The page must show all of it as it happens, and
 * its operator levers must work: pausing dv stops its beacons while its queue grows,
 * and resuming sends every queued one; a dead-letter code is replayed from its row;
 * a drain stops the pipeline with the engine still serving. Without the admin token the page offers no action and the API
 * refuses them. Each test leaves a screenshot in test-artifacts/browser/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { Browser, Page } from 'playwright-core';
import type { DecisionResponse } from '../../src/ads/decision/decision-response.ts';
import { inlineAd, vast } from '../fixtures/ads/vast.ts';
import { browserSkip, launchBrowser, screenshot, shownNumber, waitForText } from '../helpers/browser.ts';
import { backendSets, startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { post } from '../helpers/http.ts';
import { playEvent, sendEvents } from '../helpers/pipeline.ts';
import { sleep, uniqueName, waitFor } from '../helpers/wait.ts';
import { startVastServer, type VastServer } from '../integration/vast/vast-server.ts';
import { startVendorServer, type VendorServer } from '../integration/pixels/vendor-server.ts';
import { TOPICS } from '../../src/transport/topics.ts';

const TOKEN = `ops-${randomUUID()}`;
const VIEWERS = 6;
/** What the devices send; none of it may reach the page. */
const RAW_DEVICE = ['device-raw-123', 'profile-raw-456', 'ifa-raw-789', '203.0.113.99', 'Roku/DVP-12.0'];

const chromiumMissing = browserSkip();

for (const set of backendSets()) {
  describe(`the Control Room on ${set.name} backends`, { skip: set.skip || chromiumMissing, timeout: 300_000 }, () => {
    let browser: Browser;
    let page: Page;
    let t: TestEngine;
    let ads: VastServer;
    let dv: VendorServer;
    /** The campaign of the pod the ad server answers now (one per test, to read its billing alone). */
    let campaign = '';

    before(async () => {
      dv = await startVendorServer('127.0.0.2');
      ads = await startVastServer({
        '/live': () => ({
          body: vast(
            inlineAd({ id: 'spot-a', sequence: 1, durationSec: 15, host: dv.url(''), campaignId: campaign }),
            inlineAd({ id: 'spot-b', sequence: 2, durationSec: 15, host: dv.url(''), campaignId: campaign }),
          ),
        }),
      });
      t = await startTestEngine(set, {
        admin: { token: TOKEN },
        // Chromium shares two cores with the engine and the services: the herd must not be
        // shed for event-loop lag here (shedding has tests of its own).
        ads: {
          allowPrivateNetwork: true,
          sources: [{ id: 'live', url: `${ads.url('/live')}?brk=[QUARTILE_BREAK_ID]` }],
          fireErrorUris: false,
          shedPrefetchLagMs: 10_000,
          shedVodLagMs: 10_000,
          shedLiveLagMs: 10_000,
        },
        live: { cueGroupId: uniqueName('cues') },
        pipeline: { groupId: uniqueName('pipeline') },
        pixels: { allowPrivateNetwork: true, vendors: { '127.0.0.2': { name: 'dv', gvlId: 126 } }, retryBaseMs: 50, retryMaxDelayMs: 300, outcomeFlushMs: 100 },
        controlRoom: { intervalMs: 400, billingEveryMs: 1000 },
      });
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      await page.goto(`${t.url}/`);
      await waitForText(page, '#connection', (s) => s === 'live', 'the page is connected to the stream');
    });
    after(async () => {
      await browser?.close();
      await t?.stop();
      await Promise.all([ads?.close(), dv?.close()]);
    });

    /** Cues a break and waits until its plan is ready; returns its ids. */
    async function cueBreak(): Promise<{ liveEventId: string; breakId: string }> {
      const liveEventId = uniqueName('final');
      const breakId = uniqueName('brk');
      const cue = await post(`${t.url}/v1/live/cues`, { liveEventId, breakId, startsAt: Date.now() + 3_000, durationMs: 30_000, podMaxAds: 2 });
      assert.equal(cue.status, 202, JSON.stringify(cue.body));
      await waitFor('the break plan', async () => (await request(`${t.url}/v1/live/breaks/${breakId}`)).statusCode === 200, 60_000, 200);
      return { liveEventId, breakId };
    }

    /** A herd of viewers asks for the break's ads; returns every ad token of every viewer. */
    async function herd(live: { liveEventId: string; breakId: string }, viewers: number): Promise<string[]> {
      const decisions = await Promise.all(
        Array.from({ length: viewers }, (_, i) =>
          post<DecisionResponse>(`${t.url}/v1/decisions`, {
            playbackSessionId: `ps-${randomUUID()}`,
            contentId: 'final-live',
            breakPosition: 'midroll',
            ...live,
            device: { userAgent: 'Roku/DVP-12.0 (12.0.0.4182)', ip: '203.0.113.99', deviceId: `device-raw-123-${i}` },
            consent: { gdprApplies: false },
          }),
        ),
      );
      assert.ok(decisions.every((d) => d.status === 200 && d.body.ads.length === 2), JSON.stringify(decisions[0]?.body));
      return decisions.flatMap((d) => d.body.ads.map((ad) => ad.token));
    }

    /** Each token's device reports an impression, through the collector; each fires one dv beacon. */
    async function impressions(live: { liveEventId: string; breakId: string }, tokens: readonly string[]): Promise<void> {
      await sendEvents(
        t,
        tokens.map((token) => {
          const session = `s-${randomUUID()}`;
          return playEvent(token, session, `${session}-1`, 'impression', { live });
        }),
      );
    }

    const dvCell = (cls: string): string => `#vendors tr[data-key="vendor:dv"] td.${cls}`;

    it('shows the live break, per-stage charts, beacons and billing as they happen', async () => {
      campaign = `cmp-${randomUUID().slice(0, 8)}`;
      const live = await cueBreak();
      const row = `#breaks tr[data-key="break:${live.breakId}"]`;
      await waitForText(page, `${row} td:nth-child(4)`, (s) => s === 'ready', 'the break shows as prefetched');
      assert.ok(shownNumber(await page.locator('#cues').textContent() ?? '') >= 1, 'the cue is counted');

      const tokens = await herd(live, VIEWERS);
      await waitForText(page, `${row} td:nth-child(6)`, (s) => shownNumber(s) === VIEWERS, 'the herd decisions of the break');
      await impressions(live, tokens);
      await waitFor('every impression beacon at dv', () => dv.hitsOn('/imp/').length === tokens.length, 60_000);

      await waitForText(page, dvCell('delivered'), (s) => shownNumber(s) === tokens.length, 'dv\'s delivered beacons');
      for (const stage of ['collector', 'decode', 'route', 'sinks/pixels']) {
        const chart = page.locator(`.chart[data-stage="${stage}"]`);
        await waitFor(`the ${stage} chart has a few points`, async () => Number(await chart.getAttribute('data-points')) >= 3, 20_000, 100);
        assert.ok(Number(await chart.getAttribute('data-total')) >= tokens.length, `${stage} counted the events`);
        assert.equal(await chart.locator('canvas').count(), 1, `${stage} is drawn`);
      }
      // 12 impressions at a 12.5 USD CPM: campaign, impressions and spend, cell after cell.
      const billed = new RegExp(`${campaign}${tokens.length}0\\.15 USD`);
      await waitForText(page, `#campaigns tr[data-key="${campaign}"]`, (s) => billed.test(s), 'every impression of the campaign billed', 60_000);
      assert.ok(await page.locator('#herd-total').textContent().then((s) => shownNumber(s ?? '') >= VIEWERS));

      const shown = (await page.content()) + JSON.stringify((await request(`${t.url}/control-room/snapshot`).then((r) => r.body.json())));
      for (const raw of RAW_DEVICE) assert.ok(!shown.includes(raw), `the page never shows ${raw}`);
      await screenshot(page, `control-room-${set.name}-live-break`);
    });

    it('offers no action without the admin token, and the API refuses them', async () => {
      assert.equal(await page.locator(`#vendors tr[data-key="vendor:dv"] button`).isVisible(), false, 'no pause button while locked');
      assert.equal(await page.locator('#drain').isVisible(), false);
      for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Array<Record<string, string>>) {
        const pause = await post(`${t.url}/v1/admin/pixels/dv/pause`, {}, { headers });
        assert.equal(pause.status, 401);
        assert.equal(pause.body['code'], 'ADMIN_UNAUTHORIZED');
        const drain = await post(`${t.url}/v1/admin/pipeline/drain`, {}, { headers });
        assert.equal(drain.status, 401);
      }
      const state = await request(`${t.url}/v1/admin/pixels`);
      assert.equal(state.statusCode, 401);
      await state.body.dump();
      await screenshot(page, `control-room-${set.name}-locked`);
    });

    it('pauses a vendor from the page: its beacons queue up, none fire, and all go out on resume', async () => {
      campaign = `cmp-${randomUUID().slice(0, 8)}`;
      await page.fill('#operator', 'ana');
      await page.fill('#token', TOKEN);
      await page.click('#use-token');
      await page.locator(`#vendors tr[data-key="vendor:dv"] button[data-action="pause"]`).click();
      await waitForText(page, '#action-message', (s) => s.includes('Done: pause dv'), 'the pause is confirmed');
      await waitForText(page, '#vendors tr[data-key="vendor:dv"] td:nth-child(8)', (s) => s === 'paused', 'dv shows as paused');
      const api = await request(`${t.url}/v1/admin/pixels`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.deepEqual(await api.body.json(), { vendors: [{ vendor: 'dv', paused: true, queued: 0 }] });

      const hitsBefore = dv.hitsOn('/imp/').length;
      const deliveredBefore = shownNumber(await page.locator(dvCell('delivered')).textContent() ?? '');
      const live = await cueBreak();
      const tokens = await herd(live, VIEWERS);
      await impressions(live, tokens);
      await waitForText(page, dvCell('queued'), (s) => shownNumber(s) === tokens.length, 'dv\'s queue grows by every beacon');
      await sleep(1_500);
      assert.equal(dv.hitsOn('/imp/').length, hitsBefore, 'paused: dv got no beacon');
      assert.equal(shownNumber(await page.locator(dvCell('delivered')).textContent() ?? ''), deliveredBefore, 'paused: the delivered count stands still');
      assert.equal(shownNumber(await page.locator(dvCell('queued')).textContent() ?? ''), tokens.length, 'nothing dropped from the queue');
      await screenshot(page, `control-room-${set.name}-vendor-paused`);

      await page.locator(`#vendors tr[data-key="vendor:dv"] button[data-action="resume"]`).click();
      await waitForText(page, dvCell('queued'), (s) => shownNumber(s) === 0, 'dv\'s queue drains');
      await waitForText(page, dvCell('delivered'), (s) => shownNumber(s) === deliveredBefore + tokens.length, 'every queued beacon delivered');
      assert.equal(dv.hitsOn('/imp/').length, hitsBefore + tokens.length, 'dv got each queued beacon once');

      const trail = await waitForText(page, '#actions', (s) => s.includes('pixels-resume'), 'the actions in the audit trail');
      assert.match(trail, /ana: pixels-pause \(vendor dv/);
      assert.match(trail, /ana: pixels-resume \(vendor dv/);
      await screenshot(page, `control-room-${set.name}-vendor-resumed`);
    });

    it('replays dead letters by reason code from the page', async () => {
      const code = 'DECRYPT_TOKEN_MALFORMED';
      const session = `s-${randomUUID()}`;
      await sendEvents(t, [playEvent('not-a-token', session, `${session}-1`, 'impression')]);
      const row = `#dead-letters tr[data-key="${code}"]`;
      await waitForText(page, `${row} td:nth-child(2)`, (s) => shownNumber(s) === 1, 'the dead letter under its code');
      await page.locator(`${row} button[data-action="replay"]`).click();
      await waitForText(page, '#action-message', (s) => s.includes(`Done: replay ${code}`), 'the replay is confirmed');
      // The token is still malformed: the replayed event comes back to the same code.
      await waitForText(page, `${row} td:nth-child(2)`, (s) => shownNumber(s) === 2, 'the replayed event dead-lettered again');
      await waitForText(page, '#actions', (s) => s.includes(`ana: dlq-replay (code ${code}, replayed 1)`), 'the replay in the audit trail');
      await screenshot(page, `control-room-${set.name}-dlq-replayed`);
    });

    it('drains the pipeline from the page: it commits and stops while the engine keeps serving', async () => {
      await page.click('#drain');
      await page.click('#drain');
      await waitForText(page, '#pipeline-state', (s) => s === 'pipeline drained', 'the pipeline shows as drained');
      const lag = await t.engine.context.backends.transport.lag(t.config.pipeline.groupId, TOPICS.raw);
      assert.ok(lag.length > 0 && lag.every((p) => p.lag === 0), `every partition committed: ${JSON.stringify(lag)}`);
      const status = await request(`${t.url}/v1/admin/pipeline`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.deepEqual(await status.body.json(), { state: 'drained' });
      const health = await request(`${t.url}/healthz`);
      assert.equal(health.statusCode, 200, 'the engine still serves HTTP');
      await health.body.dump();
      await waitForText(page, '#actions', (s) => s.includes('ana: pipeline-drain'), 'the drain in the audit trail');
      assert.equal(await page.locator('#connection').textContent(), 'live', 'the page is still fed');
      await screenshot(page, `control-room-${set.name}-drained`);
    });
  });
}
