import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnrichProcessor } from '../../../processors/enrich/processor.ts';
import { priceMicros } from '../../../processors/enrich/price.ts';
import { UserAgentClassifier } from '../../../processors/enrich/device-class.ts';
import { HashProcessor } from '../../../processors/hash/processor.ts';
import { truncateIp } from '../../../processors/hash/truncate-ip.ts';
import { pipelineEvent, stepContext } from '../../helpers/pipeline-events.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import type { AdEvent } from '../../../schemas/types.ts';
import type { PipelineEvent } from '../../../src/pipeline/pipeline-event.ts';

const NOW = Date.UTC(2026, 10, 25, 20, 0, 0);

async function enriched(overrides: Partial<AdEvent> = {}): Promise<PipelineEvent> {
  const event = await pipelineEvent({ occurredAt: NOW - 2000, receivedAt: NOW - 500, ...overrides });
  event.claims = { v: 1, mid: 'AAECAwQFBgcICQoLDA0ODw', ad: null, cr: null, cmp: null, seq: 2, brk: 'b-claims', iat: 0, exp: 0, sid: null };
  event.metadata = sampleMetadata({ vendors: ['dv.example', 'ias.example'] });
  event.metadataId = event.claims.mid;
  return event;
}

describe('enrich', () => {
  const classes: Array<[string, string]> = [
    ['Roku/DVP-12.0 (12.0.0.4182)', 'ctv'],
    ['Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.110 Mobile Safari/537.36', 'ctv'],
    ['Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36', 'ctv'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1', 'mobile'],
    ['Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1', 'tablet'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'desktop'],
    ['Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)', 'console'],
    ['', 'unknown'],
  ];
  const classifier = new UserAgentClassifier();
  for (const [ua, expected] of classes) {
    it(`classifies ${ua.slice(0, 40) || '(no UA)'}… as ${expected}`, () => assert.equal(classifier.classify(ua).deviceClass, expected));
  }

  it('drops bots and counts them (not dead-lettered)', async () => {
    const event = await enriched({ device: { ip: null, userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', ifa: null, ifaType: null, deviceId: null, profileId: null } });
    assert.deepEqual(new EnrichProcessor({ botListFile: '' }).process(event, stepContext(NOW)), { kind: 'drop', reason: 'bot' });
  });

  it('takes campaign and price from the registry, the break from the token, and measures skew', async () => {
    const event = await enriched({ live: { liveEventId: 'final', breakId: 'b-device' } });
    assert.equal(new EnrichProcessor({ botListFile: '' }).process(event, stepContext(NOW)).kind, 'emit');
    const e = event.enriched!;
    assert.deepEqual(
      { campaign: e.campaignId, seq: e.podSequence, price: e.priceMicros, currency: e.currency, skew: e.skewMs, live: e.live, country: e.country, processedAt: e.processedAt },
      { campaign: 'cmp-1', seq: 2, price: 25_000, currency: 'USD', skew: 1500, live: { liveEventId: 'final', breakId: 'b-claims' }, country: 'US', processedAt: NOW },
    );
  });

  const prices: Array<[string, number, AdEvent['eventType'], number]> = [
    ['CPM', 25, 'impression', 25_000],
    ['CPM', 25, 'start', 0],
    ['CPC', 1.5, 'click', 1_500_000],
    ['CPCV', 0.05, 'complete', 50_000],
    ['FlatRate', 1000, 'impression', 0],
  ];
  for (const [model, value, type, micros] of prices) {
    it(`prices a ${type} under ${model} ${value} at ${micros} micros`, () => assert.equal(priceMicros({ model, currency: 'USD', value }, type), micros));
  }
});

describe('hash', () => {
  const key = { kid: 'h1', secret: Buffer.alloc(32, 3), createdAt: '2026' };

  it('replaces raw identifiers with keyed hashes and keeps IP and UA only in flight', async () => {
    const event = await enriched();
    new EnrichProcessor({ botListFile: '' }).process(event, stepContext(NOW));
    new HashProcessor(key).process(event);
    const e = event.enriched!;
    assert.match(e.profileHash, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(e.profileHash, e.deviceHash);
    assert.equal(e.hashKeyId, 'h1');
    assert.deepEqual(Object.keys(e.vendorIds).sort(), ['dv.example', 'ias.example']);
    assert.notEqual(e.vendorIds['dv.example'], e.vendorIds['ias.example'], 'vendors cannot join each other’s ids');
    assert.ok(!JSON.stringify(e).includes('prof-1') && !JSON.stringify(e).includes('203.0.113'), 'no raw id in the enriched record');
    assert.deepEqual(event.raw!.device, { ip: null, userAgent: null, ifa: null, ifaType: null, deviceId: null, profileId: null });
    assert.equal(event.inFlight!.ip, '203.0.113.7');
    assert.equal(event.inFlight!.userAgent, 'Roku/DVP-12.0');
  });

  it('hashes the same id the same way, and another key another way', async () => {
    const a = await enriched();
    const b = await enriched();
    for (const e of [a, b]) new EnrichProcessor({ botListFile: '' }).process(e, stepContext(NOW));
    new HashProcessor(key).process(a);
    new HashProcessor({ ...key, kid: 'h2', secret: Buffer.alloc(32, 4) }).process(b);
    const c = await enriched();
    new EnrichProcessor({ botListFile: '' }).process(c, stepContext(NOW));
    new HashProcessor(key).process(c);
    assert.equal(a.enriched!.profileHash, c.enriched!.profileHash);
    assert.notEqual(a.enriched!.profileHash, b.enriched!.profileHash);
  });

  it('blanks the IFA for beacons under limit-ad-tracking', async () => {
    const event = await enriched({ consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: true }, device: { ip: '1.2.3.4', userAgent: 'Roku/DVP-12.0', ifa: 'ifa-1', ifaType: 'rida', deviceId: 'd', profileId: null } });
    // A user agent enrich keeps (a bot's event never reaches the hash step).
    assert.equal(new EnrichProcessor({ botListFile: '' }).process(event, stepContext(NOW)).kind, 'emit');
    new HashProcessor(key).process(event);
    assert.equal(event.inFlight!.ifa, null);
    assert.equal(event.inFlight!.ifaType, null);
  });

  const ips: Array<[string | null, string | null]> = [
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::/48'],
    ['2001:db8::1', '2001:db8:0::/48'],
    ['not-an-ip', null],
    [null, null],
  ];
  for (const [ip, network] of ips) it(`truncates ${ip} to ${network}`, () => assert.equal(truncateIp(ip), network));
});
