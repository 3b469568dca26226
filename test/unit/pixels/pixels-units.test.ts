/**
 * The pixels sink's pure parts, table-driven: which beacons an event fires, the
 * consent gate, the macros of one beacon, the sealed beacon batch, the commit tracker,
 * the retry decision, the circuit breaker and the token bucket.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import type { Consent, EnrichedAdEvent, EventType } from '../../../schemas/types.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import { BeaconSelector, hostOf } from '../../../sinks/pixels/select-beacons.ts';
import { ConsentGate } from '../../../sinks/pixels/consent.ts';
import { DEFAULT_PIXEL_VENDORS, VendorDirectory, checkPixelVendors, type PixelsSinkConfig } from '../../../sinks/pixels/config.ts';
import { beaconMacros, deliveryMacros, vendorScopedIfa, type EventContext } from '../../../sinks/pixels/event-context.ts';
import { BinarySealer, packBatch, unpackBatch, type BeaconBatchContent } from '../../../sinks/pixels/beacon-batch.ts';
import { CommitTracker } from '../../../sinks/pixels/commit-tracker.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { decide, reasonOf } from '../../../sinks/pixels/retry-policy.ts';
import { CircuitBreaker, TokenBucket } from '../../../sinks/pixels/circuit-breaker.ts';
import { expandMacros } from '../../../src/ads/vast/macros.ts';
import { retryAfterMs, type BeaconOutcome } from '../../../src/beacons/dispatcher.ts';
import { gppWithTcf, tcfString } from './tcf-strings.ts';

const NO_CONSENT: Consent = { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false };

function enriched(eventType: EventType, extra: Partial<EnrichedAdEvent> = {}): EnrichedAdEvent {
  return {
    eventId: '11111111-1111-4111-8111-111111111111', eventType, playbackSessionId: 'ps', adInstanceId: 'ai-1', occurredAt: 0, receivedAt: 0, processedAt: 0, skewMs: 0,
    adPlayheadMs: null, errorCode: null, metadataId: 'mid-1', adId: 'ad', creativeId: 'cr', campaignId: 'c', lineItemId: '', advertiserId: '', podSequence: 1,
    pricingModel: '', priceMicros: 0, currency: '', deviceClass: 'ctv', osName: '', country: '', appName: '', appVersion: '', profileHash: '', deviceHash: '', ipHash: '',
    hashKeyId: 'h1', vendorIds: {}, consent: NO_CONSENT, live: null, source: { topic: 't', partition: 0, offset: 0 }, ...extra,
  };
}

const metadata = sampleMetadata({
  durationMs: 20_000,
  impressionUris: ['https://a.example/imp', 'https://b.example/imp?c=[CACHEBUSTING]', 'https://a.example/imp'],
  clickTrackingUris: ['https://a.example/click'],
  errorUris: ['https://a.example/err?e=[ERRORCODE]'],
  tracking: {
    start: [{ uri: 'https://a.example/start' }],
    progress: [{ uri: 'https://a.example/p5', offset: '00:00:05.000' }, { uri: 'https://a.example/p50', offset: '50%' }, { uri: 'https://a.example/bad', offset: 'soon' }],
  },
  viewable: { viewable: ['https://v.example/yes'], notViewable: ['https://v.example/no'], viewUndetermined: ['https://v.example/maybe'] },
  verifications: [{ vendor: 'doubleverify.com-omid', javascriptUris: [], executableUris: [], parameters: null, tracking: { verificationNotExecuted: ['https://tps.doubleverify.com/ne?r=[REASON]'] } }],
});

describe('which beacons an event fires', () => {
  const selector = new BeaconSelector({ verificationNotExecuted: true });
  const cases: Array<[string, EnrichedAdEvent, string[]]> = [
    ['impression: every impression URI, duplicates kept, and verificationNotExecuted', enriched('impression'), ['https://a.example/imp', 'https://b.example/imp?c=[CACHEBUSTING]', 'https://a.example/imp', 'https://tps.doubleverify.com/ne?r=[REASON]']],
    ['start: tracking.start', enriched('start'), ['https://a.example/start']],
    ['click: click tracking', enriched('click'), ['https://a.example/click']],
    ['error: error URIs', enriched('error', { errorCode: 405 }), ['https://a.example/err?e=[ERRORCODE]']],
    ['viewableImpression', enriched('viewableImpression'), ['https://v.example/yes']],
    ['notViewable', enriched('notViewable'), ['https://v.example/no']],
    ['viewUndetermined', enriched('viewUndetermined'), ['https://v.example/maybe']],
    ['progress before the first offset', enriched('progress', { adPlayheadMs: 4_999 }), []],
    ['progress at 5 s', enriched('progress', { adPlayheadMs: 5_000 }), ['https://a.example/p5']],
    ['progress at 50% of 20 s', enriched('progress', { adPlayheadMs: 10_000 }), ['https://a.example/p5', 'https://a.example/p50']],
    ['progress without a playhead', enriched('progress'), []],
    ['heartbeat: nothing', enriched('heartbeat'), []],
    ['midpoint with no URIs: nothing', enriched('midpoint'), []],
  ];
  for (const [name, event, uris] of cases) {
    it(name, () => assert.deepEqual(selector.select(event, metadata).map((b) => b.template), uris));
  }

  it('gives a URI listed twice two beacons, and progress offsets the ad play as scope', () => {
    const imp = selector.select(enriched('impression'), metadata);
    assert.notEqual(imp[0]!.uriHash, imp[2]!.uriHash);
    assert.equal(new Set(imp.map((b) => b.uriHash)).size, imp.length);
    assert.deepEqual(imp[3]!.macros, { REASON: 2 });
    assert.equal(selector.select(enriched('progress', { adPlayheadMs: 6000 }), metadata)[0]!.scope, 'adInstance');
    assert.equal(imp[0]!.scope, 'event');
  });

  it('reads the host of a template, and refuses what is no absolute http(s) URI', () => {
    assert.equal(hostOf('https://TPS.DoubleVerify.com:8443/x?y=[IFA]'), 'tps.doubleverify.com');
    assert.equal(hostOf('http://user@127.0.0.2/x'), '127.0.0.2');
    assert.equal(hostOf('https://[::1]:9/x'), '[::1]');
    assert.equal(hostOf('https://[DOMAIN]/x'), null);
    assert.equal(hostOf('javascript:alert(1)'), null);
    assert.equal(hostOf('//cdn.example/x'), null);
  });
});

describe('vendors', () => {
  const config = { vendors: { ...DEFAULT_PIXEL_VENDORS, 'a.b.example': { name: 'ab', gvlId: 5 }, 'b.example': { name: 'b', gvlId: null } }, concurrencyPerDomain: 8, tpsPerDomain: 100 } as unknown as PixelsSinkConfig;
  const directory = new VendorDirectory(config);
  const cases: Array<[string, string, number | null, boolean]> = [
    ['tps.doubleverify.com', 'dv', 126, true],
    ['pixel.adsafeprotected.com', 'ias', 278, true],
    ['secure-dcr.imrworldwide.com', 'nielsen', null, true],
    ['x.a.b.example', 'ab', 5, true],
    ['c.b.example', 'b', null, true],
    ['unknown.example', 'unknown.example', null, false],
  ];
  for (const [host, name, gvlId, known] of cases) {
    it(`${host} → ${name}`, () => assert.deepEqual((({ name: n, gvlId: g, known: k }) => ({ n, g, k }))(directory.of(host)), { n: name, g: gvlId, k: known }));
  }
  it('refuses a malformed vendors config, naming what is wrong', () => {
    assert.match(checkPixelVendors({ 'dv.com': { name: 'DV!', gvlId: 1 } }) ?? '', /name/);
    assert.match(checkPixelVendors({ 'dv.com': { name: 'dv', gvlId: 0 } }) ?? '', /gvlId/);
    assert.match(checkPixelVendors({ 'dv.com': { name: 'dv', gvlId: 1, speed: 3 } }) ?? '', /unknown key "speed"/);
    assert.equal(checkPixelVendors({ 'dv.com': { name: 'dv', gvlId: null, tps: 10 } }), undefined);
  });
});

describe('the consent gate', () => {
  const gate = new ConsentGate({ purposes: [7], allowVendorsWithoutGvlId: false });
  const dv = { name: 'dv', gvlId: 126, known: true, concurrency: 1, tps: 1 };
  const noId = { name: 'x.example', gvlId: null, known: false, concurrency: 1, tps: 1 };
  const yes = tcfString({ purposes: [1, 7], vendors: [126] });
  const otherVendor = tcfString({ purposes: [1, 7], vendors: [278] });
  const noPurpose = tcfString({ purposes: [1], vendors: [126] });
  const gdpr = (extra: Partial<Consent>): Consent => ({ ...NO_CONSENT, gdprApplies: true, ...extra });
  const cases: Array<[string, Consent, typeof dv | typeof noId, string]> = [
    ['GDPR does not apply', NO_CONSENT, dv, 'allowed'],
    ['GDPR does not apply, vendor without GVL id', NO_CONSENT, noId, 'allowed'],
    ['GDPR, TCF consent for the vendor and purpose 7', gdpr({ tcf: yes }), dv, 'allowed'],
    ['GDPR, consent for another vendor only', gdpr({ tcf: otherVendor }), dv, 'SINK_PIXEL_NO_CONSENT'],
    ['GDPR, vendor consent but not purpose 7', gdpr({ tcf: noPurpose }), dv, 'SINK_PIXEL_NO_CONSENT'],
    ['GDPR, no TCF string', gdpr({}), dv, 'SINK_PIXEL_CONSENT_MISSING'],
    ['GDPR, a TCF string that does not decode', gdpr({ tcf: 'not-a-tc-string!' }), dv, 'SINK_PIXEL_CONSENT_INVALID'],
    ['GDPR, vendor without GVL id', gdpr({ tcf: yes }), noId, 'SINK_PIXEL_VENDOR_UNKNOWN'],
    ['GDPR unknown but a TCF string without consent: GDPR taken to apply', { ...NO_CONSENT, gdprApplies: null, tcf: otherVendor }, dv, 'SINK_PIXEL_NO_CONSENT'],
    ['GDPR, consent in the GPP TCF EU section', gdpr({ gpp: gppWithTcf({ purposes: [7], vendors: [126] }), gppSid: [2] }), dv, 'allowed'],
    ['GDPR, GPP TCF EU section without the vendor', gdpr({ gpp: gppWithTcf({ purposes: [7], vendors: [278] }), gppSid: [2] }), dv, 'SINK_PIXEL_NO_CONSENT'],
    ['GDPR unknown, GPP says the TCF EU section applies', { ...NO_CONSENT, gdprApplies: null, gpp: gppWithTcf({ purposes: [7], vendors: [] }), gppSid: [2] }, dv, 'SINK_PIXEL_NO_CONSENT'],
    ['GDPR, an unreadable GPP string', gdpr({ gpp: 'garbage', gppSid: [2] }), dv, 'SINK_PIXEL_CONSENT_INVALID'],
  ];
  for (const [name, consent, vendor, expected] of cases) {
    it(name, () => {
      const verdict = gate.verdict(consent, vendor);
      assert.equal(verdict.allowed ? 'allowed' : verdict.reason, expected);
    });
  }
  it('lets vendors without a GVL id through under GDPR when configured to', () => {
    assert.equal(new ConsentGate({ purposes: [7], allowVendorsWithoutGvlId: true }).verdict(gdpr({}), noId).allowed, true);
  });
});

describe('the macros of one beacon', () => {
  const ctx: EventContext = {
    eventId: 'e1', eventType: 'impression', adInstanceId: 'ai', device: { ip: '198.51.100.7', userAgent: 'Roku/DVP 12 (x)' }, ifa: 'AAAA-BBBB', ifaType: 'rida', limitAdTracking: false,
    macros: { LIMITADTRACKING: false, ADPLAYHEAD: 5250, GDPRCONSENT: 'CQabc', REGULATIONS: ['gdpr'], GPPSECTIONID: [2, 6] },
    source: { topic: 'ads.events.raw', partition: 1, offset: '5' },
  };
  const eventMacros = deliveryMacros(ctx, 'Quartile/0.1 (server-side)');
  const key = Buffer.alloc(32, 1);
  const tpl = 'https://v.example/p?ifa=[IFA]&t=[IFATYPE]&ua=[DEVICEUA]&ip=[DEVICEIP]&ph=[ADPLAYHEAD]&ss=[SERVERSIDE]&lat=[LIMITADTRACKING]&gdpr=[GDPRCONSENT]&reg=[REGULATIONS]&sid=[GPPSECTIONID]&e=[ERRORCODE]&x=[NOTAMACRO]';
  it('hashes the IFA per vendor by default, and expands the rest (RFC 3986, -1 for unknown), the device\'s and Quartile\'s own included', () => {
    const url = expandMacros(tpl, beaconMacros(ctx, eventMacros, 'dv', 'hashed', key, undefined));
    const ifa = vendorScopedIfa(key, 'dv', 'AAAA-BBBB');
    assert.match(ifa, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(ifa, vendorScopedIfa(key, 'ias', 'AAAA-BBBB'), 'each vendor gets its own');
    assert.equal(url, `https://v.example/p?ifa=${ifa}&t=ppid&ua=Roku%2FDVP%2012%20%28x%29&ip=198.51.100.7&ph=00%3A00%3A05.250&ss=1&lat=0&gdpr=CQabc&reg=gdpr&sid=2,6&e=-1&x=[NOTAMACRO]`);
  });
  const ifaCases: Array<[string, EventContext, 'hashed' | 'raw' | 'withheld', string]> = [
    ['raw', ctx, 'raw', 'ifa=AAAA-BBBB&t=rida'],
    ['withheld', ctx, 'withheld', 'ifa=-2&t=-2'],
    ['limit-ad-tracking withholds it in every mode', { ...ctx, limitAdTracking: true, ifa: null, ifaType: null }, 'raw', 'ifa=-2&t=-2'],
    ['no IFA is unknown', { ...ctx, ifa: null, ifaType: null }, 'hashed', 'ifa=-1&t=-1'],
  ];
  for (const [name, c, mode, expected] of ifaCases) {
    it(`[IFA] ${name}`, () => assert.equal(expandMacros('ifa=[IFA]&t=[IFATYPE]', beaconMacros(c, eventMacros, 'dv', mode, key, undefined)), expected));
  }
  it('hashes the IFA as HMAC-SHA256 does, whatever the key, vendor or IFA: vendors keep joining a device across releases', () => {
    const asUuid = (h: string): string => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    const keysTried = [key, randomBytes(32), randomBytes(64), randomBytes(100), Buffer.alloc(0)];
    const ifas = ['AAAA-BBBB', '6D92078A-8246-4BA4-AE5B-76104861E7DC', 'é-ü-😀', '', 'x'.repeat(50), 'y'.repeat(500)];
    for (const k of keysTried) {
      for (const vendor of ['dv', 'ias', 'nielsen', 'a vendor with a long name'.repeat(3)]) {
        for (const ifa of ifas) assert.equal(vendorScopedIfa(k, vendor, ifa), asUuid(createHmac('sha256', k).update(`ifa:${vendor}\u0000${ifa}`).digest('hex')), `key of ${k.length} bytes, ${vendor}, ${ifa}`);
      }
    }
  });
});

describe('a sealed beacon batch', () => {
  const content: BeaconBatchContent = {
    targets: [
      { template: 'https://v.example/imp?ua=[DEVICEUA]', host: 'v.example', uriHash: 'h1', scope: 'event', vendor: 'dv' },
      { template: 'https://v.example/ne?r=[REASON]', host: 'v.example', uriHash: 'h2', scope: 'adInstance', vendor: 'dv', macros: { REASON: 2 } },
      { template: '[DOMAIN]/x', host: null, uriHash: 'h3', scope: 'event', vendor: 'invalid-uri' },
    ],
    contexts: [
      {
        eventId: 'e1', eventType: 'impression', adInstanceId: 'ai', device: { ip: '198.51.100.7', userAgent: 'Roku/DVP 12 (x)' }, ifa: 'AAAA-BBBB', ifaType: 'rida', limitAdTracking: false,
        macros: { GDPRCONSENT: 'CQabc', GPPSECTIONID: [2, 6] }, source: { topic: 'ads.events.raw', partition: 1, offset: '5' },
      },
      {
        eventId: 'e2', eventType: 'start', adInstanceId: 'ai', device: { ip: null, userAgent: null }, ifa: null, ifaType: null, limitAdTracking: true,
        macros: {}, source: { topic: 'ads.events.raw', partition: 2, offset: '9' },
      },
    ],
    beacons: [
      { ctx: 0, target: 0, firstAt: 1_700_000_000_000, attempts: 0, due: 1_700_000_000_000, replay: false, verdict: null },
      { ctx: 0, target: 1, firstAt: 1_700_000_000_000, attempts: 3, due: 1_700_000_004_000, replay: true, verdict: null },
      { ctx: 1, target: 2, firstAt: 1_700_000_000_500, attempts: 0, due: 1_700_000_000_500, replay: false, verdict: 'SINK_PIXEL_URL_INVALID' },
    ],
  };

  it('comes back whole', () => {
    assert.deepEqual(unpackBatch(packBatch(content)), content);
  });

  it('keeps the IP, user agent and URIs out of the event log, and opens only with its key and record key', () => {
    const sealer = new BinarySealer(randomBytes(32));
    const blob = sealer.seal(packBatch(content), 'batch-1');
    const text = blob.toString('latin1');
    assert.ok(!text.includes('198.51.100.7') && !text.includes('Roku') && !text.includes('v.example'));
    assert.deepEqual(unpackBatch(sealer.open(blob, 'batch-1')!), content);
    assert.equal(sealer.open(blob, 'batch-2'), null, 'bound to its record key');
    assert.equal(new BinarySealer(randomBytes(32)).open(blob, 'batch-1'), null, 'another queue key cannot open it');
    const altered = Buffer.from(blob);
    altered[altered.length - 1]! ^= 1;
    assert.equal(sealer.open(altered, 'batch-1'), null, 'an altered blob is refused');
  });

  it('refuses bytes that are not a batch with SINK_PIXEL_CONTEXT_LOST', () => {
    for (const bytes of [Buffer.alloc(2), Buffer.from('{"v":9}'), Buffer.from('null')]) {
      assert.throws(() => unpackBatch(bytes), (e: unknown) => isQuartileError(e, 'SINK_PIXEL_CONTEXT_LOST'));
    }
  });
});

describe('the commit tracker', () => {
  it('commits a partition only past records whose beacons are all settled, whatever order they settle in', () => {
    const t = new CommitTracker();
    const a = t.open('w', 0, 10, 2)!;
    const b = t.open('w', 0, 11, 1)!;
    const c = t.open('w', 0, 12, 0)!;
    assert.deepEqual(t.due(), [], 'nothing settled at the head');
    t.settle(b);
    assert.deepEqual(t.due(), [], 'a later record settled first does not move the commit');
    t.settle(a);
    assert.deepEqual(t.due(), [], 'the head record still has a beacon');
    t.settle(a);
    assert.deepEqual(t.due(), [{ topic: 'w', partition: 0, offset: '13' }], 'past the settled head and the empty record after it');
    assert.equal(c.pending, 0);
    assert.equal(t.unsettled, 0);
  });

  it('offers a commit again until it is acknowledged, and never twice once it is', () => {
    const t = new CommitTracker();
    t.settle(t.open('w', 1, 0, 1)!);
    assert.deepEqual(t.due(), [{ topic: 'w', partition: 1, offset: '1' }]);
    assert.deepEqual(t.due(), [{ topic: 'w', partition: 1, offset: '1' }], 'the commit failed: offered again');
    t.acknowledge([{ topic: 'w', partition: 1, offset: '1' }]);
    assert.deepEqual(t.due(), []);
  });

  it('ignores a record taken twice, and abandons a partition taken away', () => {
    const t = new CommitTracker();
    const a = t.open('w', 2, 5, 1)!;
    assert.equal(t.open('w', 2, 5, 1), undefined, 'a fetch delivered it twice');
    t.open('w', 3, 0, 1);
    assert.equal(t.unsettled, 2);
    t.revoke('w', 2);
    assert.ok(a.abandoned);
    assert.equal(t.unsettled, 1);
    t.settle(a);
    assert.deepEqual(t.due(), [], 'an abandoned partition is never committed here');
  });
});

describe('the retry decision', () => {
  const settings = { baseMs: 1000, maxDelayMs: 60_000, deadlineMs: 3_600_000, attemptMs: 2000 };
  const outcome = (o: Partial<BeaconOutcome>): BeaconOutcome => ({ outcome: 'retry', url: 'u', status: 503, latencyMs: 1, reason: 'NET_HTTP_STATUS', retryAfterMs: null, ...o });
  const cases: Array<[string, BeaconOutcome, number, string]> = [
    ['2xx is delivered', outcome({ outcome: 'delivered', status: 204, reason: null }), 1, 'delivered'],
    ['503 is retried', outcome({}), 1, 'retry SINK_PIXEL_HTTP_5XX'],
    ['429 is retried', outcome({ status: 429 }), 1, 'retry SINK_PIXEL_HTTP_5XX'],
    ['a timeout is retried', outcome({ status: null, reason: 'NET_TIMEOUT' }), 1, 'retry SINK_PIXEL_TIMEOUT'],
    ['a reset connection is retried', outcome({ status: null, reason: 'NET_UNREACHABLE' }), 1, 'retry SINK_PIXEL_NETWORK'],
    ['404 fails at once', outcome({ outcome: 'reject', status: 404 }), 1, 'fail SINK_PIXEL_HTTP_4XX'],
    ['a refused address fails at once', outcome({ outcome: 'reject', status: null, reason: 'NET_ADDRESS_REFUSED' }), 1, 'fail SINK_PIXEL_SSRF_REFUSED'],
    ['a redirect loop fails at once', outcome({ outcome: 'reject', status: null, reason: 'NET_TOO_MANY_REDIRECTS' }), 1, 'fail SINK_PIXEL_URL_INVALID'],
  ];
  for (const [name, o, attempts, expected] of cases) {
    it(name, () => {
      const d = decide(o, attempts, 0, 0, settings, () => 0.5);
      assert.equal(d.kind === 'delivered' ? 'delivered' : `${d.kind} ${d.reason}`, expected);
    });
  }
  it('backs off exponentially with full jitter, capped', () => {
    const at = (attempt: number, r: number): number => {
      const d = decide(outcome({}), attempt, 0, 0, settings, () => r);
      return d.kind === 'retry' ? d.at : -1;
    };
    assert.deepEqual([at(1, 0.999), at(2, 0.999), at(3, 0.999), at(10, 0.999)], [999, 1998, 3996, 59_940]);
    assert.equal(at(3, 0), 100, 'never quite zero');
  });
  it('honours a longer Retry-After, and gives up when the deadline would pass', () => {
    const d = decide(outcome({ retryAfterMs: 120_000 }), 1, 0, 0, settings, () => 0.5);
    assert.deepEqual(d, { kind: 'retry', at: 120_000, reason: 'SINK_PIXEL_HTTP_5XX' });
    assert.deepEqual(decide(outcome({}), 5, 0, 3_597_000, settings, () => 0.5), { kind: 'fail', reason: 'SINK_PIXEL_RETRIES_EXHAUSTED', retriable: true });
    assert.equal(reasonOf(outcome({ status: 408 })), 'SINK_PIXEL_HTTP_5XX');
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(retryAfterMs('7'), 7000);
    assert.equal(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2026, 0, 1)), 30_000);
    assert.equal(retryAfterMs('soon'), null);
    assert.equal(retryAfterMs(undefined), null);
  });
});

describe('the circuit breaker and the TPS cap', () => {
  it('opens after N failures, probes once after the cooldown, closes on success, backs off on failure', () => {
    let now = 0;
    const b = new CircuitBreaker({ failures: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.ok(b.tryAcquire());
      b.record(false);
    }
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), false);
    now = 1000;
    assert.equal(b.state, 'halfOpen');
    assert.ok(b.tryAcquire(), 'one probe');
    assert.equal(b.tryAcquire(), false, 'only one');
    b.record(false);
    assert.equal(b.state, 'open');
    assert.equal(b.waitMs, 2000, 'the cooldown doubled');
    now = 3000;
    assert.ok(b.tryAcquire());
    b.record(true);
    assert.equal(b.state, 'closed');
    b.record(false);
    assert.equal(b.state, 'closed', 'one failure after closing does not open it');
  });
  it('gives out at most the rate per second', () => {
    let now = 0;
    const bucket = new TokenBucket(10, () => now);
    let taken = 0;
    while (bucket.tryTake()) taken++;
    assert.equal(taken, 10);
    assert.equal(bucket.waitMs, 100);
    now = 500;
    taken = 0;
    while (bucket.tryTake()) taken++;
    assert.equal(taken, 5);
  });
});
