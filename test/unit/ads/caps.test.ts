/**
 * Frequency-cap rules and the counter layout: what config accepts, which buckets an
 * impression lands in, which buckets a read sums, and the viewer key both the
 * pipeline and the Ads Manager compute.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCapRules, parseCapRules } from '../../../src/ads/caps/cap-rules.ts';
import { counterFor, ledgerKey, readKeys } from '../../../src/ads/caps/cap-keys.ts';
import { loadCapKey, profileKeyOf } from '../../../src/ads/caps/profile-key.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { isQuartileError } from '../../../src/core/errors.ts';

const subject = { campaignId: 'cmp:1', lineItemId: 'li-1', creativeId: 'cr-1', advertiserId: '' };
const H = 3_600_000;

describe('cap rules', () => {
  const cases: Array<[string, unknown, RegExp | undefined]> = [
    ['a rolling window', [{ scope: 'campaign', max: 3, window: '24h' }], undefined],
    ['a UTC day with a line item scope', [{ scope: 'lineItem', max: 2, window: 'day' }], undefined],
    ['a live event', [{ scope: 'creative', max: 1, window: 'live-event' }], undefined],
    ['explicit buckets', [{ scope: 'advertiser', max: 5, window: '7d', buckets: 7 }], undefined],
    ['not a list', { scope: 'campaign' }, /a list/],
    ['an unknown scope', [{ scope: 'brand', max: 1, window: '1h' }], /capRules\[0\]\.scope must be one of campaign, lineItem, creative, advertiser/],
    ['a zero max', [{ scope: 'campaign', max: 0, window: '1h' }], /capRules\[0\]\.max/],
    ['a window with no unit', [{ scope: 'campaign', max: 1, window: '24' }], /capRules\[0\]\.window must be a duration/],
    ['a window under a minute', [{ scope: 'campaign', max: 1, window: '30s' }], /between 1m and 366d/],
    ['buckets on a day window', [{ scope: 'campaign', max: 1, window: 'day', buckets: 4 }], /only to rolling windows/],
    ['buckets that do not divide', [{ scope: 'campaign', max: 1, window: '1h', buckets: 7 }], /whole buckets/],
    ['an unknown key', [{ scope: 'campaign', max: 1, window: '1h', per: 'device' }], /unknown key "per"/],
  ];
  for (const [what, value, problem] of cases) {
    it(`${problem === undefined ? 'accepts' : 'refuses'} ${what}`, () => {
      const found = checkCapRules(value);
      if (problem === undefined) assert.equal(found, undefined);
      else assert.match(found ?? '', problem);
    });
  }

  it('is config: ads.capRules from the environment is validated with the rule named', () => {
    const config = loadConfig({ env: { QUARTILE_ADS_CAP_RULES: '[{"scope":"campaign","max":3,"window":"24h"}]' } });
    assert.deepEqual(config.ads.capRules, [{ scope: 'campaign', max: 3, window: '24h' }]);
    assert.throws(
      () => loadConfig({ env: { QUARTILE_ADS_CAP_RULES: '[{"scope":"campaign","max":3,"window":"fortnight"}]' } }),
      (e: unknown) => isQuartileError(e, 'CONFIG_INVALID_VALUE') && /ads\.capRules/.test(e.message) && /capRules\[0\]\.window/.test(e.message),
    );
  });

  it('parses windows, with ids that survive a change of max but not of bucket size', () => {
    const [a, b, c, d] = parseCapRules([
      { scope: 'campaign', max: 3, window: '24h' },
      { scope: 'campaign', max: 9, window: '24h' },
      { scope: 'campaign', max: 3, window: '24h', buckets: 12 },
      { scope: 'creative', max: 1, window: 'live-event' },
    ]);
    assert.deepEqual(a!.window, { kind: 'rolling', ms: 24 * H, bucketMs: H });
    assert.equal(a!.id, b!.id);
    assert.notEqual(a!.id, c!.id);
    assert.deepEqual(d!.window, { kind: 'live-event' });
  });
});

describe('cap counter layout', () => {
  const [rolling, day, live] = parseCapRules([
    { scope: 'campaign', max: 3, window: '24h' },
    { scope: 'campaign', max: 3, window: 'day' },
    { scope: 'campaign', max: 3, window: 'live-event' },
  ]);
  const now = Date.UTC(2026, 10, 25, 10, 30);

  it('puts every key of a viewer under one Redis Cluster hash tag', () => {
    const slot = counterFor(rolling!, 'p:abc', subject, null, now, now)!;
    assert.ok(slot.key.startsWith('cap:{p:abc}:'));
    assert.ok(ledgerKey('p:abc', 'e-1').startsWith('cap:{p:abc}:'));
    assert.ok(slot.key.includes('cmp%3A1'), 'scope ids are encoded, so a colon cannot collide');
  });

  it('sums the 24 full buckets and the partly expired oldest one of a rolling window', () => {
    const keys = readKeys(rolling!, 'p:abc', 'cmp:1', null, now);
    assert.equal(keys.length, 25);
    // An impression 23.9 hours ago is still seen; its counter lives until its bucket leaves the window.
    const old = counterFor(rolling!, 'p:abc', subject, null, now - 23.9 * H, now)!;
    assert.ok(keys.includes(old.key));
    assert.ok(old.ttlMs > 0 && old.ttlMs <= 1.2 * H);
    assert.equal(counterFor(rolling!, 'p:abc', subject, null, now - 26 * H, now), null, 'too old for any read: not counted');
  });

  it('counts a UTC day until midnight UTC, and a live event only with its id', () => {
    const slot = counterFor(day!, 'p:abc', subject, null, now, now)!;
    assert.match(slot.key, /:d20261125$/);
    assert.deepEqual(readKeys(day!, 'p:abc', 'cmp:1', null, now), [slot.key]);
    assert.deepEqual(readKeys(day!, 'p:abc', 'cmp:1', null, Date.UTC(2026, 10, 26, 0, 0, 1)), [slot.key.replace('d20261125', 'd20261126')]);
    assert.equal(counterFor(live!, 'p:abc', subject, null, now, now), null);
    assert.match(counterFor(live!, 'p:abc', subject, 'ev-1', now, now)!.key, /:eev-1$/);
  });

  it('skips a rule whose scope id the ad server did not send', () => {
    const [advertiser] = parseCapRules([{ scope: 'advertiser', max: 1, window: '1h' }]);
    assert.equal(counterFor(advertiser!, 'p:abc', subject, null, now, now), null);
  });
});

describe('profile keys', () => {
  const key = Buffer.alloc(32, 7);

  it('hashes the profile id, else the device id, with a prefix that tells which', () => {
    const profile = profileKeyOf(key, 'viewer-1', 'device-9');
    assert.match(profile ?? '', /^p:[A-Za-z0-9_-]{22}$/);
    assert.equal(profileKeyOf(key, 'viewer-1', 'other-device'), profile, 'the profile wins over the device');
    assert.match(profileKeyOf(key, null, 'device-9') ?? '', /^d:/);
    assert.equal(profileKeyOf(key, '', ''), null);
    assert.notEqual(profileKeyOf(key, 'same', null)!.slice(2), profileKeyOf(key, null, 'same')!.slice(2), 'a profile id never meets a device id');
    assert.notEqual(profileKeyOf(Buffer.alloc(32, 8), 'viewer-1', null), profile, 'keyed: another key, another hash');
    assert.ok(!profile!.includes('viewer-1'));
  });

  it('loads the key from config, or generates one file and keeps it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quartile-capkey-'));
    try {
      const config = loadConfig({ env: { QUARTILE_DATA_DIR: dataDir } });
      const first = loadCapKey(config);
      assert.equal(first.length, 32);
      assert.deepEqual(loadCapKey(config), first, 'the same key on every start');
      const path = join(dataDir, 'keys', 'cap-key.json');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.ok(readFileSync(path, 'utf8').includes('"k"'));
      const secret = Buffer.alloc(32, 3).toString('base64');
      assert.deepEqual(loadCapKey(loadConfig({ env: { QUARTILE_DATA_DIR: dataDir, QUARTILE_ADS_CAP_KEY_SECRET: secret } })), Buffer.alloc(32, 3));
      assert.throws(
        () => loadCapKey(loadConfig({ env: { QUARTILE_ADS_CAP_KEY_SECRET: 'short' } })),
        (e: unknown) => isQuartileError(e, 'CONFIG_INVALID_VALUE') && /ads\.capKeySecret/.test(e.message),
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
