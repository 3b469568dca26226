/**
 * Vendor pixels as the vendors see them, on both backends: local vendor servers on
 * 127.0.0.2–4 count every hit and can be slow, failing or flaky. One engine (role all,
 * with its own pixels off) runs the collector and the warehouse; each test runs its own
 * pipeline member(s), which record beacons and deliver them, with the pixels config it
 * needs.
 *
 * Covered: macros and the server-side headers; a consent matrix (TCF, GPP, no
 * consent, GDPR not applying, limit-ad-tracking, a vendor with no GVL id); retries
 * until success, with Retry-After; a 4xx not retried; giving up to the dead-letter
 * topic and `dlq replay` re-firing only the failed beacon; giving up on beacons that
 * waited past their deadline behind a paused vendor; no double fire after a
 * crash before commit; the circuit breaker; the SSRF guard and redirects; pause and
 * resume, a slow vendor not holding the partition, and no raw IP, user agent or URI in
 * what waits in the event log; a takeover of what a stopped member left waiting, and
 * of what earlier versions left queued in the state store (both of their layouts).
 */
import { crashingBeforeCommit } from '../../helpers/crashing-transport.ts';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { QuartileConfig } from '../../../src/config/spec.ts';
import type { EngineContext } from '../../../src/core/engine.ts';
import { PipelineComponent } from '../../../src/pipeline/pipeline-component.ts';
import { replayDeadLetters } from '../../../src/pipeline/dead-letter-tools.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import type { Transport } from '../../../src/transport/transport.ts';
import type { DeadLetter } from '../../../schemas/types.ts';
import { loadHashKey } from '../../../processors/hash/hash-keys.ts';
import { ContextSealer, loadQueueKey, vendorScopedIfa } from '../../../sinks/pixels/event-context.ts';
import { earlierKeys, type EarlierJob } from '../../../sinks/pixels/ledger.ts';
import { backendSets, keyedBy, readTopic, type TestEngine } from '../../helpers/engine.ts';
import { adFor, playEvent, sendEvents, startPipelineEngine } from '../../helpers/pipeline.ts';
import { sleep, waitFor } from '../../helpers/wait.ts';
import { gppWithTcf, tcfString } from '../../unit/pixels/tcf-strings.ts';
import { startVendorServer, type VendorServer } from './vendor-server.ts';

const UA = 'Roku/DVP-12.0 (12.0.0.4182)';
const VENDORS = {
  '127.0.0.2': { name: 'dv', gvlId: 126 },
  '127.0.0.3': { name: 'ias', gvlId: 278 },
} as const;


interface Row {
  event_id: string;
  vendor: string;
  outcome: string;
  reason: string;
  http_status: number;
  attempts: number;
}

for (const set of backendSets()) {
  describe(`pixels sink on ${set.name} backends`, { skip: set.skip, timeout: 600_000 }, () => {
    let t: TestEngine;
    let dv: VendorServer;
    let ias: VendorServer;
    let other: VendorServer;
    const members: PipelineComponent[] = [];

    before(async () => {
      [dv, ias, other] = await Promise.all([startVendorServer('127.0.0.2'), startVendorServer('127.0.0.3'), startVendorServer('127.0.0.4')]);
      t = await startPipelineEngine(set, { pixels: { enabled: false, allowPrivateNetwork: true, vendors: VENDORS } });
    });
    after(async () => {
      for (const m of members) await m.stop();
      await t.stop();
      await Promise.all([dv.close(), ias.close(), other.close()]);
    });

    // A test that failed leaves its members running; they must not fire the next test's beacons.
    beforeEach(async () => {
      for (const m of members.splice(0)) await m.stop();
    });

    const ctx = (): EngineContext => t.engine.context;
    const tag = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`;

    /** A pipeline member with the pixels sink on, and `pixels` overrides. */
    async function member(pixels: Partial<QuartileConfig['pixels']> = {}, options: { groupId?: string; transport?: Transport } = {}): Promise<PipelineComponent> {
      const base = ctx();
      const config = {
        ...base.config,
        // On the shared Kafka the raw topic also holds earlier runs' events, whose registry
        // entries are gone: dead-letter them at once rather than after look-up retries.
        pipeline: { ...base.config.pipeline, resolveRetries: 0 },
        pixels: { ...base.config.pixels, enabled: true, retryBaseMs: 50, retryMaxDelayMs: 300, outcomeFlushMs: 100, ...pixels },
      } as QuartileConfig;
      const m = new PipelineComponent(
        { ...base, config, backends: { ...base.backends, transport: options.transport ?? base.backends.transport } },
        {},
        { groupId: options.groupId ?? `px-${randomUUID()}` },
      );
      await m.start();
      members.push(m);
      return m;
    }
    async function stop(m: PipelineComponent): Promise<void> {
      members.splice(members.indexOf(m), 1);
      await m.stop();
    }

    async function rows(eventIds: readonly string[], atLeast: number, timeoutMs = 60_000): Promise<Row[]> {
      const db = ctx().backends.warehouse.database;
      const list = eventIds.map((id) => `'${id}'`).join(',');
      let found: Row[] = [];
      await waitFor(`${atLeast} beacon_deliveries rows`, async () => {
        found = await ctx().backends.warehouse.query<Row>(
          `SELECT toString(event_id) AS event_id, vendor, outcome, reason, http_status, attempts FROM ${db}.beacon_deliveries FINAL WHERE event_id IN (${list}) ORDER BY vendor, event_id`,
        );
        return found.length >= atLeast;
      }, timeoutMs, 200);
      return found.map((r) => ({ ...r, http_status: Number(r.http_status), attempts: Number(r.attempts) }));
    }

    async function letters(eventId: string, atLeast = 1): Promise<DeadLetter[]> {
      const records = await readTopic(ctx().backends.transport, TOPICS.deadLetter, atLeast, (r) => r.value!.includes(eventId) && r.value!.includes('sinks/pixels'), 90_000);
      return Promise.all(records.map((r) => ctx().codec.decode(TOPICS.deadLetter, r.value!)));
    }

    it('expands the macros and sends the IAB server-side headers, once per beacon', async () => {
      const id = tag('macros');
      const { token, metadata } = await adFor(t, {
        impressionUris: [dv.url(`/${id}/imp?ifa=[IFA]&t=[IFATYPE]&ua=[DEVICEUA]&ip=[DEVICEIP]&ss=[SERVERSIDE]&ts=[TIMESTAMP]&cb=[CACHEBUSTING]&asset=[ASSETURI]&lat=[LIMITADTRACKING]&gdpr=[GDPRCONSENT]&reg=[REGULATIONS]&q=[QUARTILE_X]`)],
        errorUris: [dv.url(`/${id}/err?code=[ERRORCODE]&ph=[ADPLAYHEAD]`)],
        tracking: { start: [{ uri: ias.url(`/${id}/start?ph=[ADPLAYHEAD]`) }] },
      });
      const m = await member();
      const s = `s-${randomUUID()}`;
      const events = [playEvent(token, s, `${s}-1`, 'impression'), playEvent(token, s, `${s}-1`, 'start', { adPlayheadMs: 0 }), playEvent(token, s, `${s}-1`, 'error', { errorCode: 405, adPlayheadMs: 5250 })];
      await sendEvents(t, events);
      // The first member of a run reads the whole shared raw topic first (earlier runs' events too).
      await waitFor('three beacons', () => dv.hitsOn(`/${id}/`).length + ias.hitsOn(`/${id}/`).length >= 3, 150_000);
      const [imp] = dv.hitsOn(`/${id}/imp`);
      const q = Object.fromEntries(imp!.query);
      assert.equal(q['ifa'], vendorScopedIfa(loadHashKey(ctx().config).secret, 'dv', 'ifa-raw-789'), 'the IFA is a keyed hash for this vendor');
      assert.equal(q['t'], 'ppid');
      assert.equal(q['ua'], UA);
      assert.ok(q['ip'] !== undefined && q['ip'] !== '-1');
      assert.equal(q['ss'], '1');
      assert.match(q['ts']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
      assert.match(q['cb']!, /^\d{8}$/);
      assert.equal(q['asset'], metadata.mediaUri);
      assert.deepEqual([q['lat'], q['gdpr'], q['reg'], q['q']], ['0', '-1', '-1', '[QUARTILE_X]']);
      assert.equal(imp!.headers['x-device-user-agent'], UA);
      assert.equal(imp!.headers['x-device-ip'], q['ip']);
      assert.equal(imp!.headers['user-agent'], ctx().config.ads.serverUserAgent);
      const [err] = dv.hitsOn(`/${id}/err`);
      assert.deepEqual([err!.query.get('code'), err!.query.get('ph')], ['405', '00:00:05.250']);
      assert.equal(ias.hitsOn(`/${id}/start`)[0]!.query.get('ph'), '00:00:00.000');

      const found = await rows(events.map((e) => e['eventId'] as string), 3);
      assert.deepEqual(found.map((r) => [r.vendor, r.outcome, r.http_status, r.attempts]).sort(), [['dv', 'delivered', 200, 1], ['dv', 'delivered', 200, 1], ['ias', 'delivered', 200, 1]]);
      await sleep(300);
      assert.equal(dv.hitsOn(`/${id}/`).length + ias.hitsOn(`/${id}/`).length, 3, 'each beacon fired once');
      await stop(m);
    });

    it('fires only what consent allows, and counts what it suppressed', async () => {
      const id = tag('consent');
      const m = await member();
      const cases = {
        'tcf-dv': { consent: { gdprApplies: true, tcf: tcfString({ purposes: [1, 7], vendors: [126] }) }, fired: ['dv'], suppressed: { ias: 'SINK_PIXEL_NO_CONSENT', '127.0.0.4': 'SINK_PIXEL_VENDOR_UNKNOWN' } },
        'tcf-no-purpose': { consent: { gdprApplies: true, tcf: tcfString({ purposes: [1], vendors: [126, 278] }) }, fired: [], suppressed: { dv: 'SINK_PIXEL_NO_CONSENT', ias: 'SINK_PIXEL_NO_CONSENT', '127.0.0.4': 'SINK_PIXEL_VENDOR_UNKNOWN' } },
        'gpp-ias': { consent: { gdprApplies: true, gpp: gppWithTcf({ purposes: [7], vendors: [278] }), gppSid: [2] }, fired: ['ias'], suppressed: { dv: 'SINK_PIXEL_NO_CONSENT', '127.0.0.4': 'SINK_PIXEL_VENDOR_UNKNOWN' } },
        'no-string': { consent: { gdprApplies: true }, fired: [], suppressed: { dv: 'SINK_PIXEL_CONSENT_MISSING', ias: 'SINK_PIXEL_CONSENT_MISSING', '127.0.0.4': 'SINK_PIXEL_VENDOR_UNKNOWN' } },
        'no-gdpr': { consent: { gdprApplies: false }, fired: ['dv', 'ias', 'other'], suppressed: {} },
        'lat': { consent: { gdprApplies: false, limitAdTracking: true }, fired: ['dv', 'ias', 'other'], suppressed: {} },
      } as const;
      const ids: Record<string, string> = {};
      for (const [name, c] of Object.entries(cases)) {
        const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/${name}?ifa=[IFA]`), ias.url(`/${id}/${name}?ifa=[IFA]`), other.url(`/${id}/${name}?ifa=[IFA]`)] });
        const s = `s-${randomUUID()}`;
        const event = playEvent(token, s, `${s}-1`, 'impression', { consent: c.consent });
        ids[name] = event['eventId'] as string;
        await sendEvents(t, [event]);
      }
      const expectedRows = Object.values(cases).reduce((n, c) => n + c.fired.length + Object.keys(c.suppressed).length, 0);
      const found = await rows(Object.values(ids), expectedRows);
      await sleep(500);
      const servers = { dv, ias, other };
      for (const [name, c] of Object.entries(cases)) {
        for (const [vendor, server] of Object.entries(servers)) {
          const hits = server.hitsOn(`/${id}/${name}`);
          assert.equal(hits.length, (c.fired as readonly string[]).includes(vendor) ? 1 : 0, `${name}: ${vendor}`);
          if (name === 'lat' && hits[0] !== undefined) assert.equal(hits[0].query.get('ifa'), '-2', 'limit-ad-tracking withholds the IFA');
        }
        const suppressed = Object.fromEntries(found.filter((r) => r.event_id === ids[name] && r.outcome === 'suppressed').map((r) => [r.vendor, r.reason]));
        assert.deepEqual(suppressed, c.suppressed, `${name}: suppressed`);
      }
      const metric = await ctx().metrics.registry.getSingleMetricAsString('quartile_pixel_beacons_total');
      assert.match(metric, /outcome="suppressed",reason="SINK_PIXEL_NO_CONSENT"/);
      await stop(m);
    });

    it('retries 5xx and 429 until delivered, honouring Retry-After, and never retries a 4xx', async () => {
      const id = tag('retry');
      dv.on(`/${id}/`, [{ status: 503 }, { status: 429, headers: { 'retry-after': '1' } }, { status: 204 }]);
      ias.on(`/${id}/`, { status: 404 });
      const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/imp?cb=[CACHEBUSTING]`), ias.url(`/${id}/imp?cb=[CACHEBUSTING]`)] });
      const m = await member();
      const s = `s-${randomUUID()}`;
      const event = playEvent(token, s, `${s}-1`, 'impression');
      await sendEvents(t, [event]);
      const found = await rows([event['eventId'] as string], 2);
      const hits = dv.hitsOn(`/${id}/`);
      assert.equal(hits.length, 3);
      assert.ok(hits[2]!.at - hits[1]!.at >= 950, `Retry-After: 1 honoured (${hits[2]!.at - hits[1]!.at} ms)`);
      // A retry is the same request: a vendor deduplicating by URL counts the beacon once.
      const cacheBusters = new Set(hits.map((h) => h.query.get('cb')));
      assert.equal(cacheBusters.size, 1);
      assert.match([...cacheBusters][0] ?? '', /^\d{8}$/);
      assert.notEqual(ias.hitsOn(`/${id}/`)[0]!.query.get('cb'), [...cacheBusters][0], 'another beacon has another cache buster');
      assert.deepEqual(found.map((r) => [r.vendor, r.outcome, r.reason, r.http_status, r.attempts]), [
        ['dv', 'delivered', '', 204, 3],
        ['ias', 'failed', 'SINK_PIXEL_HTTP_4XX', 404, 1],
      ]);
      await sleep(500);
      assert.equal(ias.hitsOn(`/${id}/`).length, 1, 'a 404 is not retried');
      const [letter] = await letters(event['eventId'] as string);
      assert.deepEqual([letter!.code, letter!.vendor, letter!.retriable], ['SINK_PIXEL_HTTP_4XX', 'ias', false]);
      await stop(m);
    });

    it('gives up at the deadline to the dead-letter topic, and dlq replay re-fires only that beacon', async () => {
      const id = tag('giveup');
      dv.on(`/${id}/`, { status: 500 });
      const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/down`), ias.url(`/${id}/up`)] });
      const m = await member({ deadlineMs: 1500, timeoutMs: 200 });
      const s = `s-${randomUUID()}`;
      const event = playEvent(token, s, `${s}-1`, 'impression');
      const eventId = event['eventId'] as string;
      await sendEvents(t, [event]);
      const [letter] = await letters(eventId);
      assert.deepEqual([letter!.code, letter!.stage, letter!.vendor, letter!.eventType, letter!.retriable], ['SINK_PIXEL_RETRIES_EXHAUSTED', 'sinks/pixels', 'dv', 'impression', true]);
      assert.ok(letter!.attempts >= 2, `${letter!.attempts} attempts`);
      assert.ok(letter!.originalValue.length > 0, 'the beacon is kept, sealed, for the replay');
      assert.ok(!letter!.originalValue.toString('latin1').includes(UA), 'sealed');
      const failedHits = dv.hitsOn(`/${id}/down`).length;
      const failed = await rows([eventId], 2);
      assert.deepEqual(failed.map((r) => [r.vendor, r.outcome, r.reason]), [['dv', 'failed', 'SINK_PIXEL_RETRIES_EXHAUSTED'], ['ias', 'delivered', '']]);

      dv.on(`/${id}/`, { status: 200 }); // the vendor is back
      const report = await replayDeadLetters(ctx().backends.transport, ctx().codec, { code: 'SINK_PIXEL_RETRIES_EXHAUSTED' });
      assert.ok(report.replayed >= 1);
      await waitFor('the failed beacon fired again', () => dv.hitsOn(`/${id}/down`).length > failedHits, 30_000);
      await waitFor('its outcome is now delivered', async () => (await rows([eventId], 2)).some((r) => r.vendor === 'dv' && r.outcome === 'delivered'), 30_000);
      await sleep(1000);
      assert.equal(dv.hitsOn(`/${id}/down`).length, failedHits + 1, 'fired once more');
      assert.equal(ias.hitsOn(`/${id}/up`).length, 1, 'the delivered beacon of the same event is not fired again');
      await stop(m);
    });

    it('dead-letters beacons that waited past their deadline behind a paused vendor, and never fires them', async () => {
      const id = tag('expire');
      const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/imp`)] });
      const m = await member({ deadlineMs: 1500, timeoutMs: 200 });
      await m.pixels!.pause('dv');
      try {
        const sessions = Array.from({ length: 3 }, () => `s-${randomUUID()}`);
        const events = sessions.map((s) => playEvent(token, s, `${s}-1`, 'impression'));
        await sendEvents(t, events);
        const found = await rows(events.map((e) => e['eventId'] as string), 3, 30_000);
        assert.deepEqual(found.map((r) => [r.vendor, r.outcome, r.reason, r.attempts]), Array(3).fill(['dv', 'failed', 'SINK_PIXEL_DEADLINE_EXCEEDED', 0]));
        const [letter] = await letters(events[0]!['eventId'] as string);
        assert.deepEqual([letter!.code, letter!.vendor, letter!.attempts], ['SINK_PIXEL_DEADLINE_EXCEEDED', 'dv', 0]);
      } finally {
        await m.pixels!.resume('dv');
      }
      await sleep(1000);
      assert.equal(dv.hitsOn(`/${id}/`).length, 0, 'given up: not fired after the resume');
      await stop(m);
    });

    it('fires each beacon once when a member dies between acknowledging and committing', async () => {
      const id = tag('crash');
      dv.on(`/${id}/`, { status: 200, delayMs: 250 });
      const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/imp`)], tracking: { start: [{ uri: dv.url(`/${id}/start`) }] } });
      const groupId = `px-crash-${randomUUID()}`;
      const doomed = await member({ concurrencyPerDomain: 1 }, { groupId, transport: crashingBeforeCommit(ctx().backends.transport) });
      const sessions = Array.from({ length: 6 }, () => `s-${randomUUID()}`);
      await sendEvents(t, sessions.flatMap((s) => [playEvent(token, s, `${s}-1`, 'impression'), playEvent(token, s, `${s}-1`, 'start')]));
      await waitFor('the doomed member fired some', () => dv.hitsOn(`/${id}/`).length >= 2, 60_000);
      await stop(doomed); // "crash": acknowledged, never committed; some beacons still queued
      const survivor = await member({}, { groupId });
      await waitFor('every beacon delivered', () => dv.hitsOn(`/${id}/`).length >= 12, 60_000);
      await sleep(1500); // nothing else shows up
      assert.equal(dv.hitsOn(`/${id}/imp`).length, 6);
      assert.equal(dv.hitsOn(`/${id}/start`).length, 6);
      await stop(survivor);
    });

    it('slows down on a failing domain (circuit breaker) and drains once it recovers', async () => {
      const id = tag('breaker');
      ias.on(`/${id}/`, { status: 503 });
      const { token } = await adFor(t, { impressionUris: [ias.url(`/${id}/imp`)] });
      const m = await member({ vendors: { ...VENDORS, '127.0.0.3': { name: 'ias', gvlId: 278, concurrency: 1 } }, breakerFailures: 3, breakerCooldownMs: 800, retryBaseMs: 20, retryMaxDelayMs: 40 });
      const sessions = Array.from({ length: 10 }, () => `s-${randomUUID()}`);
      const events = sessions.map((s) => playEvent(token, s, `${s}-1`, 'impression'));
      await sendEvents(t, events);
      await waitFor('the first failures', () => ias.hitsOn(`/${id}/`).length >= 3, 60_000);
      await sleep(2000);
      const during = ias.hitsOn(`/${id}/`).length;
      assert.ok(during <= 6, `${during} requests in 2 s to a failing domain: probed, not hammered`);
      assert.match(await ctx().metrics.registry.getSingleMetricAsString('quartile_pixel_circuit_state'), /vendor="ias".*\} 2/);
      ias.on(`/${id}/`, { status: 200 });
      const recovered = Date.now();
      await rows(events.map((e) => e['eventId'] as string), 10, 30_000).then(async (r) => {
        await waitFor('all delivered', async () => (await rows(events.map((e) => e['eventId'] as string), 10)).every((x) => x.outcome === 'delivered'), 30_000);
        return r;
      });
      assert.equal(ias.hits.filter((h) => h.path.startsWith(`/${id}/`) && h.at >= recovered).length, 10, 'each beacon delivered once after recovery');
      await stop(m);
    });

    it('refuses private addresses unless allowed, and re-checks every redirect hop', async () => {
      const id = tag('ssrf');
      const guarded = await member({ allowPrivateNetwork: false });
      const refused = await adFor(t, { impressionUris: [dv.url(`/${id}/direct`)] });
      const s1 = `s-${randomUUID()}`;
      const e1 = playEvent(refused.token, s1, `${s1}-1`, 'impression');
      await sendEvents(t, [e1]);
      const [r1] = await rows([e1['eventId'] as string], 1);
      assert.deepEqual([r1!.outcome, r1!.reason], ['failed', 'SINK_PIXEL_SSRF_REFUSED']);
      assert.equal(dv.hitsOn(`/${id}/direct`).length, 0, 'never connected');
      await stop(guarded);

      dv.on(`/${id}/hop1`, { status: 302, headers: { location: `/${id}/hop2` } });
      dv.on(`/${id}/hop2`, { status: 302, headers: { location: dv.url(`/${id}/final`) } });
      dv.on(`/${id}/file`, { status: 302, headers: { location: 'file:///etc/passwd' } });
      dv.on(`/${id}/loop`, { status: 302, headers: { location: `/${id}/loop` } });
      const m = await member();
      const ad = await adFor(t, { impressionUris: [dv.url(`/${id}/hop1`), dv.url(`/${id}/file`), dv.url(`/${id}/loop`)] });
      const s2 = `s-${randomUUID()}`;
      const e2 = playEvent(ad.token, s2, `${s2}-1`, 'impression');
      await sendEvents(t, [e2]);
      const found = await rows([e2['eventId'] as string], 3);
      assert.deepEqual(found.map((r) => [r.outcome, r.reason]).sort(), [['delivered', ''], ['failed', 'SINK_PIXEL_URL_INVALID'], ['failed', 'SINK_PIXEL_URL_INVALID']]);
      assert.deepEqual([dv.hitsOn(`/${id}/hop`).length, dv.hitsOn(`/${id}/final`).length], [2, 1], 'two redirects followed');
      assert.equal(dv.hitsOn(`/${id}/file`).length, 1, 'a redirect to file: is refused');
      assert.equal(dv.hitsOn(`/${id}/loop`).length, 4, 'the first request and three redirects, no more');
      await stop(m);
    });

    it('queues a paused vendor\'s beacons (sealed, nothing dropped), keeps the partition moving past a slow vendor, and resumes', async () => {
      const id = tag('pause');
      ias.on(`/${id}/`, { status: 200, delayMs: 6000 });
      const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/imp`), ias.url(`/${id}/slow`)] });
      const groupId = `px-pause-${randomUUID()}`;
      const m = await member({ timeoutMs: 8000 }, { groupId });
      await m.pixels!.pause('dv');
      const sessions = Array.from({ length: 5 }, () => `s-${randomUUID()}`);
      const events = sessions.map((s) => playEvent(token, s, `${s}-1`, 'impression'));
      await sendEvents(t, events);
      await waitFor('the partition committed past the beacons', async () => {
        const lag = await ctx().backends.transport.lag(groupId, TOPICS.raw);
        return lag.length > 0 && lag.every((p) => p.lag === 0) && m.pixels!.queueDepth()['dv'] === 5;
      }, 60_000);
      assert.equal(m.pixels!.queueDepth()['ias'], 5, 'committed while the slow vendor had not answered yet');
      assert.equal(dv.hitsOn(`/${id}/`).length, 0, 'paused: nothing fired');

      // What waits in the event log holds no raw device identifier, nor the URIs: the
      // beacons and their events' contexts are sealed, on the work topic and the retry topic.
      const waiting = await readTopic(ctx().backends.transport, TOPICS.beaconRetries, 1, keyedBy('127.0.0.2'));
      assert.equal((await ctx().codec.decode(TOPICS.beaconRetries, waiting[0]!.value!)).host, '127.0.0.2', 'the paused vendor\'s beacons wait on the retry topic');
      const work = await readTopic(ctx().backends.transport, TOPICS.beacons, 1);
      for (const r of [...waiting, ...work]) {
        const bytes = r.value!.toString('latin1');
        assert.ok(!bytes.includes(UA) && !bytes.includes('127.0.0.1') && !bytes.includes('ifa-raw-789') && !bytes.includes(`/${id}/`), 'sealed');
      }

      await sleep(600);
      assert.equal(dv.hitsOn(`/${id}/`).length, 0);
      await m.pixels!.resume('dv');
      await waitFor('the paused beacons went out', () => dv.hitsOn(`/${id}/`).length === 5, 10_000);
      await waitFor('the queue is empty', () => (m.pixels!.queueDepth()['dv'] ?? 0) === 0, 10_000);
      await rows(events.map((e) => e['eventId'] as string), 10, 30_000);
      assert.equal(ias.hitsOn(`/${id}/slow`).length, 5);
      await stop(m);
    });

    it('takes over what a stopped member left waiting, and what earlier versions left queued in the state store', async () => {
      const id = tag('takeover');
      const state = ctx().backends.state;
      const { token } = await adFor(t, { impressionUris: [dv.url(`/${id}/imp?cb=[CACHEBUSTING]`)] });
      const groupId = `px-takeover-${randomUUID()}`;
      const first = await member({}, { groupId });
      await first.pixels!.pause('dv');
      const sessions = Array.from({ length: 4 }, () => `s-${randomUUID()}`);
      const events = sessions.map((s) => playEvent(token, s, `${s}-1`, 'impression'));
      await sendEvents(t, events);
      await waitFor('committed with the beacons waiting', async () => {
        const lag = await ctx().backends.transport.lag(groupId, TOPICS.raw);
        return lag.length > 0 && lag.every((p) => p.lag === 0) && first.pixels!.queueDepth()['dv'] === 4;
      }, 60_000);
      await stop(first); // its beacons wait on the retry topic, uncommitted: only a takeover fires them

      // Beacons earlier versions queued in the state store, in both of their layouts.
      const sealer = new ContextSealer(loadQueueKey(ctx().config));
      const now = Date.now();
      const context = (eventId: string) => ({
        eventId, eventType: 'impression', adInstanceId: `ai-${eventId}`, macros: {}, device: { ip: '198.51.100.9', userAgent: UA },
        ifa: null, ifaType: null, limitAdTracking: false, source: { topic: TOPICS.raw, partition: 0, offset: '0' }, originalKey: null, originalValue: Buffer.from('raw').toString('base64'), // earlier versions kept the raw record
      });
      const previousEvent = randomUUID();
      const previousId = `${previousEvent}|dv|previous`;
      const batchKey = earlierKeys.contexts(randomUUID());
      const previousJob: EarlierJob = { id: previousId, eventId: previousEvent, eventType: 'impression', vendor: 'dv', host: '127.0.0.2', template: dv.url(`/${id}/previous`), uriHash: 'previous', firstAt: now, ctx: batchKey, attempts: 0, due: now };
      await state.set(`px:l:${previousId}`, 'p', 600_000);
      await state.set(batchKey, sealer.seal([context(previousEvent)], batchKey), 600_000);
      await state.sortedAdd(earlierKeys.queue('127.0.0.2'), [{ member: JSON.stringify(previousJob), score: now - 1_000 }]);
      await state.sortedAdd(earlierKeys.hosts, [{ member: '127.0.0.2', score: now }]);
      const legacyEvent = randomUUID();
      const legacyId = `${legacyEvent}|dv|legacy`;
      const legacyJob: EarlierJob = { id: legacyId, eventId: legacyEvent, eventType: 'impression', vendor: 'dv', host: '127.0.0.2', template: dv.url(`/${id}/legacy`), uriHash: 'legacy', firstAt: now, attempts: 0, due: now };
      await state.set(`px:l:${legacyId}`, 'p', 600_000);
      await state.set(earlierKeys.legacyJob(legacyId), JSON.stringify(legacyJob), 600_000);
      await state.set(earlierKeys.legacyContext(legacyEvent), sealer.seal(context(legacyEvent), earlierKeys.legacyContext(legacyEvent)), 600_000);
      await state.sortedAdd(earlierKeys.legacyQueue('127.0.0.2'), [{ member: legacyId, score: now - 1_000 }]);
      await state.sortedAdd(earlierKeys.legacyHosts, [{ member: '127.0.0.2', score: now }]);

      const second = await member({}, { groupId });
      await second.pixels!.resume('dv');
      await waitFor('the stopped member\'s beacons fired', () => dv.hitsOn(`/${id}/imp`).length === 4, 30_000);
      await waitFor('the earlier versions\' beacons fired', () => dv.hitsOn(`/${id}/previous`).length === 1 && dv.hitsOn(`/${id}/legacy`).length === 1, 30_000);
      const found = await rows(events.map((e) => e['eventId'] as string), 4);
      assert.deepEqual(found.map((r) => [r.vendor, r.outcome]), Array(4).fill(['dv', 'delivered']));
      assert.equal(dv.hitsOn(`/${id}/previous`)[0]!.headers['x-device-user-agent'], UA, 'the context came from the sealed batch');
      assert.equal(dv.hitsOn(`/${id}/legacy`)[0]!.headers['x-device-user-agent'], UA, 'the context came from the sealed blob');
      await waitFor('the earlier queues emptied', async () => {
        const current = await state.sortedRange(earlierKeys.queue('127.0.0.2'), Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
        const legacy = await state.sortedRange(earlierKeys.legacyQueue('127.0.0.2'), Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
        return current.length === 0 && legacy.length === 0 && (await state.get(earlierKeys.legacyJob(legacyId))) === null;
      }, 10_000);
      await sleep(1500); // nothing fires twice
      assert.equal(dv.hitsOn(`/${id}/imp`).length, 4);
      assert.equal(dv.hitsOn(`/${id}/previous`).length, 1);
      assert.equal(dv.hitsOn(`/${id}/legacy`).length, 1);
      await stop(second);
    });
  });
}
