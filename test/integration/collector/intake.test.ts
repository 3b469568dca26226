/**
 * POST /v1/events as devices and producers use it, on the embedded log and on real
 * Kafka with the schema registry: per-event validation, rejected events on their
 * topic, whole-request errors, gzip, API keys, shedding, and per-session order.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '../../../src/transport/topics.ts';
import { backendSets, keyedBy, readTopic, startTestEngine, type TestEngine } from '../../helpers/engine.ts';
import { post } from '../../helpers/http.ts';
import { plain } from '../../helpers/events.ts';
import type { IntakeResponse } from '../../../src/collector/collector.ts';

function deviceEvent(session: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: randomUUID(),
    eventType: 'impression',
    token: 'tok.en',
    playbackSessionId: session,
    adInstanceId: `${session}-ad1`,
    occurredAt: Date.now() - 500,
    device: { deviceId: 'd-1', profileId: 'p-1', userAgent: 'Roku/DVP-12.0 (12.0.0.4182)' },
    consent: { gdprApplies: false, limitAdTracking: false },
    ...overrides,
  };
}

for (const set of backendSets()) {
  describe(`collector on ${set.name} backends`, { skip: set.skip, timeout: 120_000 }, () => {
    let t: TestEngine;
    const API_KEY = 'k-0123456789abcdef-secret';
    before(async () => {
      t = await startTestEngine(set, { collector: { countryHeader: 'x-edge-country', maxEvents: 50, maxBodyBytes: 64 * 1024 } }, { role: 'collector' });
    });
    after(() => t.stop());
    const events = (): string => `${t.url}/v1/events`;

    it('accepts good events and rejects bad ones one by one, publishing both', async () => {
      const session = `s-${randomUUID()}`;
      const good = [deviceEvent(session), deviceEvent(session, { eventType: 'start', adPlayheadMs: 0 })];
      const bad = deviceEvent(session, { eventType: 'impresion', device: { ip: '192.0.2.77', deviceId: 'raw-device-id' } });
      const response = await post<IntakeResponse>(events(), { events: [good[0], bad, good[1]] }, { headers: { 'x-edge-country': 'fr', 'user-agent': 'RokuOS' } });
      assert.equal(response.status, 200);
      assert.equal(response.body.accepted, 2);
      assert.deepEqual(response.body.rejected.map((r) => [r.index, r.code]), [[1, 'EVENT_UNKNOWN_EVENT_TYPE']]);

      const transport = t.engine.context.backends.transport;
      const codec = t.engine.context.codec;
      const raw = await readTopic(transport, TOPICS.raw, 2, keyedBy(session));
      const decoded = await Promise.all(raw.map((r) => codec.decode(TOPICS.raw, r.value!)));
      assert.deepEqual(decoded.map((e) => e.eventId).sort(), good.map((g) => g.eventId as string).sort());
      const first = plain(decoded.find((e) => e.eventId === good[0]!.eventId)!);
      assert.equal(first.country, 'FR');
      assert.equal(first.device.userAgent, 'Roku/DVP-12.0 (12.0.0.4182)');
      assert.ok(first.receivedAt >= first.occurredAt);
      if (set.name === 'real') assert.equal(raw[0]!.value![0], 0, 'Confluent framing on the registry');
      else assert.equal(raw[0]!.value![0], 0xc3, 'single-object framing without a registry');

      const rejected = await readTopic(transport, TOPICS.rejected, 1, keyedBy(response.body.requestId));
      const record = await codec.decode(TOPICS.rejected, rejected[0]!.value!);
      assert.equal(record.code, 'EVENT_UNKNOWN_EVENT_TYPE');
      assert.equal(record.index, 1);
      const stored = record.raw.toString();
      assert.match(stored, /impresion/, 'the rejected topic keeps the event as sent');
      assert.ok(!stored.includes('192.0.2.77') && !stored.includes('raw-device-id'), 'but never raw device identifiers');
    });

    it('keeps one session’s events in order across requests', async () => {
      const session = `s-${randomUUID()}`;
      const sequence = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'];
      const sent = sequence.map((eventType, i) => deviceEvent(session, { eventType, adPlayheadMs: i * 1000 }));
      for (const pair of [sent.slice(0, 2), sent.slice(2, 4), sent.slice(4)]) {
        assert.equal((await post(events(), { events: pair })).status, 200);
      }
      const raw = await readTopic(t.engine.context.backends.transport, TOPICS.raw, 6, keyedBy(session));
      assert.equal(new Set(raw.map((r) => r.partition)).size, 1, 'one partition per session');
      const types = await Promise.all(raw.map(async (r) => (await t.engine.context.codec.decode(TOPICS.raw, r.value!)).eventType));
      assert.deepEqual(types, sequence);
    });

    it('accepts gzip bodies', async () => {
      const response = await post<IntakeResponse>(events(), { events: [deviceEvent(`s-${randomUUID()}`)] }, { gzip: true });
      assert.equal(response.status, 200);
      assert.equal(response.body.accepted, 1);
    });

    const whole: Array<[string, () => Promise<{ status: number; body: { code?: string } }>, number, string]> = [
      ['bad JSON', () => post(events(), '{"events": [', { raw: true }), 400, 'COLLECTOR_BAD_JSON'],
      ['a body without an events array', () => post(events(), { event: [] }), 400, 'COLLECTOR_BAD_BODY'],
      ['text/plain', () => post(events(), '{}', { raw: true, headers: { 'content-type': 'text/plain' } }), 415, 'COLLECTOR_UNSUPPORTED_MEDIA_TYPE'],
      ['brotli', () => post(events(), '{}', { raw: true, headers: { 'content-encoding': 'br' } }), 415, 'COLLECTOR_UNSUPPORTED_ENCODING'],
      ['corrupt gzip', () => post(events(), 'not gzip', { raw: true, headers: { 'content-encoding': 'gzip' } }), 400, 'COLLECTOR_BAD_ENCODING'],
      ['too many events', () => post(events(), { events: Array.from({ length: 51 }, () => deviceEvent('s')) }), 413, 'COLLECTOR_TOO_MANY_EVENTS'],
      ['a body over the limit', () => post(events(), { events: [deviceEvent('s', { token: 'x'.repeat(2000) })], pad: 'y'.repeat(70 * 1024) }), 413, 'COLLECTOR_BODY_TOO_LARGE'],
      [
        'a gzip bomb (small on the wire, over the limit decompressed)',
        () => post(events(), { events: [], pad: ' '.repeat(200 * 1024) }, { gzip: true }),
        413,
        'COLLECTOR_BODY_TOO_LARGE',
      ],
    ];
    for (const [what, send, status, code] of whole) {
      it(`answers ${status} ${code} to ${what}`, async () => {
        const response = await send();
        assert.equal(response.status, status);
        assert.equal(response.body.code, code);
      });
    }

    it('requires API keys when configured, and rate-limits each producer with a Retry-After', async () => {
      const keyed = await startTestEngine(set, { collector: { apiKeys: [{ id: 'acme-ssai', key: API_KEY, ratePerSec: 1, burst: 3 }] } }, { role: 'collector' });
      try {
        const url = `${keyed.url}/v1/events`;
        const body = (n: number) => ({ events: Array.from({ length: n }, () => deviceEvent(`s-${randomUUID()}`)) });
        assert.equal((await post(url, body(1))).body['code'], 'COLLECTOR_API_KEY_MISSING');
        assert.equal((await post(url, body(1), { headers: { 'x-quartile-key': 'wrong-key-wrong-key' } })).status, 401);
        const ok = await post<IntakeResponse>(url, body(3), { headers: { 'x-quartile-key': API_KEY } });
        assert.equal(ok.status, 200);
        const limited = await post(url, body(3), { headers: { 'x-quartile-key': API_KEY } });
        assert.equal(limited.status, 429);
        assert.equal(limited.body['code'], 'COLLECTOR_RATE_LIMITED');
        assert.ok(Number(limited.headers['retry-after']) >= 1);
      } finally {
        await keyed.stop();
      }
    });

    it('sheds heartbeats and progress before billing events under load, and refuses all at the hard limit', async () => {
      // The in-flight byte thresholds make the load level deterministic for the test.
      const soft = await startTestEngine(set, { collector: { shedInFlightBytes: 1024, hardInFlightBytes: 10 * 1024 * 1024 } }, { role: 'collector' });
      try {
        const session = `s-${randomUUID()}`;
        const sent = ['heartbeat', 'impression', 'progress', 'complete', 'mute'].map((eventType) => deviceEvent(session, { eventType }));
        const response = await post<IntakeResponse>(`${soft.url}/v1/events`, { events: sent });
        assert.equal(response.status, 200);
        assert.equal(response.body.accepted, 2);
        assert.deepEqual(response.body.rejected.map((r) => [r.index, r.code]), [
          [0, 'EVENT_SHED'],
          [2, 'EVENT_SHED'],
          [4, 'EVENT_SHED'],
        ]);
      } finally {
        await soft.stop();
      }
      const hard = await startTestEngine(set, { collector: { shedInFlightBytes: 1024, hardInFlightBytes: 1024 } }, { role: 'collector' });
      try {
        const response = await post(`${hard.url}/v1/events`, { events: [deviceEvent('s', { eventType: 'impression', token: 'x'.repeat(1500) })] });
        assert.equal(response.status, 503);
        assert.equal(response.body['code'], 'COLLECTOR_OVERLOADED');
        assert.ok(Number(response.headers['retry-after']) >= 1);
      } finally {
        await hard.stop();
      }
    });
  });
}
