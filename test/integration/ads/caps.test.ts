/**
 * Frequency caps on both state backends: the pipeline counts an impression once per
 * event id, and the Ads Manager reads the same counters back at decision time, for
 * each window type.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CapCheck, readCapCounts } from '../../../src/ads/caps/cap-check.ts';
import { parseCapRules } from '../../../src/ads/caps/cap-rules.ts';
import { countImpression, type CapImpression } from '../../../src/ads/caps/count-impression.ts';
import { profileKeyOf } from '../../../src/ads/caps/profile-key.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { RedisStateStore } from '../../../src/state/redis-state.ts';
import type { StateStore } from '../../../src/state/state-store.ts';
import { service } from '../../helpers/services.ts';
import { uniqueName } from '../../helpers/wait.ts';

const redis = service('redis');
const H = 3_600_000;
const backends: Array<{ name: string; skip: string | false; open: () => StateStore }> = [
  { name: 'memory', skip: false, open: () => new MemoryStateStore() },
  { name: 'redis', skip: redis.skip, open: () => new RedisStateStore({ url: redis.url ?? '', keyPrefix: `${uniqueName('caps')}:` }) },
];

const KEY = Buffer.alloc(32, 1);
const ad = { campaignId: 'cmp-1', lineItemId: 'li-1', creativeId: 'cr-1', advertiserId: 'adv-1' };

function impression(profileKey: string, overrides: Partial<CapImpression> = {}): CapImpression {
  return { eventId: randomUUID(), profileKey, ...ad, liveEventId: null, occurredAt: Date.now(), ...overrides };
}

for (const backend of backends) {
  describe(`frequency caps on ${backend.name}`, { skip: backend.skip }, () => {
    const state = backend.open();
    after(() => state.close());

    it('counts an impression once per event id, on every rule that applies', async () => {
      const rules = parseCapRules([
        { scope: 'campaign', max: 2, window: '24h' },
        { scope: 'advertiser', max: 5, window: 'day' },
        { scope: 'creative', max: 1, window: 'live-event' },
      ]);
      const viewer = profileKeyOf(KEY, uniqueName('viewer'), null)!;
      const first = impression(viewer, { liveEventId: 'ev-1' });
      assert.deepEqual(await countImpression(state, rules, first), { counted: true });
      assert.deepEqual(await countImpression(state, rules, first), { counted: false }, 'a replay of the same event counts nothing');
      assert.deepEqual(await countImpression(state, rules, impression(viewer)), { counted: true }, 'VOD: the live-event rule does not apply, the others do');
      const counts = await readCapCounts(state, rules, viewer, [ad], 'ev-1');
      assert.deepEqual(
        [...counts.entries()].sort(),
        [
          [`${rules[0]!.id}|cmp-1`, 2],
          [`${rules[1]!.id}|adv-1`, 2],
          [`${rules[2]!.id}|cr-1`, 1],
        ].sort(),
      );
      const caps = await CapCheck.load(state, rules, viewer, [ad], 'ev-1');
      assert.equal(caps.cappedBy(ad)?.scope, 'campaign');
      const other = await CapCheck.load(state, rules, profileKeyOf(KEY, uniqueName('viewer'), null)!, [ad], 'ev-1');
      assert.equal(other.cappedBy(ad), null, 'another viewer is not capped');
    });

    it('lets a rolling window forget impressions once their bucket leaves it', async () => {
      const rules = parseCapRules([{ scope: 'campaign', max: 1, window: '24h' }]);
      const viewer = profileKeyOf(KEY, null, uniqueName('device'))!;
      const now = Date.now();
      await countImpression(state, rules, impression(viewer, { occurredAt: now - 23 * H }), now);
      assert.equal((await CapCheck.load(state, rules, viewer, [ad], null, now)).cappedBy(ad)?.id, rules[0]!.id);
      assert.equal((await CapCheck.load(state, rules, viewer, [ad], null, now + 2.1 * H)).cappedBy(ad), null, 'a day after the impression');
      assert.deepEqual(await countImpression(state, rules, impression(viewer, { occurredAt: now - 30 * H }), now), { counted: false }, 'older than the window: nothing to count');
    });

    it('counts a UTC calendar day, which starts again at midnight', async () => {
      const rules = parseCapRules([{ scope: 'lineItem', max: 1, window: 'day' }]);
      const viewer = profileKeyOf(KEY, uniqueName('viewer'), null)!;
      const now = Date.now();
      const midnight = Math.ceil(now / (24 * H)) * 24 * H;
      await countImpression(state, rules, impression(viewer, { occurredAt: now }), now);
      assert.notEqual((await CapCheck.load(state, rules, viewer, [ad], null, now)).cappedBy(ad), null);
      assert.equal((await CapCheck.load(state, rules, viewer, [ad], null, midnight + 1)).cappedBy(ad), null);
    });

    it('counts a live event across its breaks, and only that event', async () => {
      const rules = parseCapRules([{ scope: 'creative', max: 2, window: 'live-event' }]);
      const viewer = profileKeyOf(KEY, uniqueName('viewer'), null)!;
      await countImpression(state, rules, impression(viewer, { liveEventId: 'final' }));
      await countImpression(state, rules, impression(viewer, { liveEventId: 'final' }));
      assert.notEqual((await CapCheck.load(state, rules, viewer, [ad], 'final')).cappedBy(ad), null);
      assert.equal((await CapCheck.load(state, rules, viewer, [ad], 'semi-final')).cappedBy(ad), null);
      assert.equal((await CapCheck.load(state, rules, viewer, [ad], null)).cappedBy(ad), null, 'a VOD decision is not bound by a live-event cap');
    });

    it('counts the ads chosen for the same pod, so a pod cannot exceed a cap', async () => {
      const rules = parseCapRules([
        { scope: 'campaign', max: 2, window: '1h' },
        { scope: 'campaign', max: 3, window: '1h' },
      ]);
      const viewer = profileKeyOf(KEY, uniqueName('viewer'), null)!;
      await countImpression(state, rules, impression(viewer));
      const caps = await CapCheck.load(state, rules, viewer, [ad], null);
      assert.equal(caps.cappedBy(ad), null);
      caps.reserve(ad);
      assert.notEqual(caps.cappedBy(ad), null, 'one shown before, one in this pod: at the cap of 2');
      const anonymous = await CapCheck.load(state, rules, null, [ad], null);
      assert.equal(anonymous.cappedBy(ad), null, 'no profile or device id: no caps');
    });
  });
}
