/**
 * Pod assembly: pod ads in sequence within the count and duration limits, the buffet
 * filling slots whose ad failed, was capped or did not fit, and caps counted across
 * the pod.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assemblePod, type PodViewer } from '../../../src/ads/decision/pod.ts';

interface Item {
  readonly id: string;
  readonly durationMs: number;
  readonly campaign?: string;
}
const ad = (id: string, seconds: number, campaign?: string): Item => ({ id, durationMs: seconds * 1000, ...(campaign === undefined ? {} : { campaign }) });

/** Caps: at most `max` ads of each listed campaign, counting the ones chosen. */
function capped(max: Record<string, number>): PodViewer<Item> {
  const shown = new Map<string, number>();
  return {
    isCapped: (item) => item.campaign !== undefined && (shown.get(item.campaign) ?? 0) >= (max[item.campaign] ?? Infinity),
    reserve: (item) => {
      if (item.campaign !== undefined) shown.set(item.campaign, (shown.get(item.campaign) ?? 0) + 1);
    },
  };
}

const cases: Array<{
  what: string;
  primary: (Item | null)[];
  buffet: Item[];
  limits: { maxAds: number; maxDurationMs: number };
  viewer?: PodViewer<Item>;
  want: string[];
  skipped?: string[];
}> = [
  { what: 'takes pod ads in sequence', primary: [ad('a', 15), ad('b', 15), ad('c', 15)], buffet: [], limits: { maxAds: 5, maxDurationMs: 60_000 }, want: ['a', 'b', 'c'] },
  { what: 'stops at the ad count', primary: [ad('a', 15), ad('b', 15), ad('c', 15)], buffet: [ad('x', 5)], limits: { maxAds: 2, maxDurationMs: 60_000 }, want: ['a', 'b'] },
  {
    what: 'fills the slot of a failed ad from the buffet',
    primary: [ad('a', 15), null, ad('c', 15)],
    buffet: [ad('x', 10), ad('y', 10)],
    limits: { maxAds: 3, maxDurationMs: 60_000 },
    want: ['a', 'x', 'c'],
  },
  {
    what: 'replaces an ad that does not fit with a buffet ad that does',
    primary: [ad('a', 30), ad('long', 60), ad('c', 15)],
    buffet: [ad('x', 20)],
    limits: { maxAds: 5, maxDurationMs: 70_000 },
    want: ['a', 'x', 'c'],
    skipped: ['long:did-not-fit'],
  },
  {
    what: 'skips a slot when no buffet ad can take it',
    primary: [ad('a', 30), null, ad('c', 30)],
    buffet: [ad('x', 45)],
    limits: { maxAds: 5, maxDurationMs: 60_000 },
    want: ['a', 'c'],
  },
  {
    what: 'fills the room left after the pod from the buffet',
    primary: [ad('a', 15)],
    buffet: [ad('x', 15), ad('y', 60), ad('z', 15)],
    limits: { maxAds: 3, maxDurationMs: 60_000 },
    want: ['a', 'x', 'z'],
  },
  { what: 'builds a pod from stand-alone ads alone', primary: [], buffet: [ad('x', 15), ad('y', 15)], limits: { maxAds: 5, maxDurationMs: 60_000 }, want: ['x', 'y'] },
  {
    what: 'replaces a capped ad, and counts the pod against the cap',
    primary: [ad('a', 15, 'cmp-1'), ad('b', 15, 'cmp-1'), ad('c', 15, 'cmp-2')],
    buffet: [ad('x', 15, 'cmp-1'), ad('y', 15, 'cmp-3')],
    limits: { maxAds: 5, maxDurationMs: 120_000 },
    viewer: capped({ 'cmp-1': 1 }),
    want: ['a', 'y', 'c'],
    skipped: ['b:capped', 'x:capped'],
  },
];

describe('pod assembly', () => {
  for (const c of cases) {
    it(c.what, () => {
      const pod = assemblePod(c.primary, c.buffet, c.limits, c.viewer);
      assert.deepEqual(
        pod.ads.map((a) => a.item.id),
        c.want,
      );
      assert.deepEqual(
        pod.ads.map((a) => a.sequence),
        c.want.map((_, i) => i + 1),
        'numbered in play order',
      );
      assert.equal(
        pod.durationMs,
        pod.ads.reduce((sum, a) => sum + a.item.durationMs, 0),
      );
      assert.ok(pod.durationMs <= c.limits.maxDurationMs && pod.ads.length <= c.limits.maxAds);
      if (c.skipped !== undefined) assert.deepEqual(pod.skipped.map((s) => `${s.item.id}:${s.reason}`), c.skipped);
    });
  }

  it('gives the same pod for the same inputs (what lets a herd share one)', () => {
    const primary = [ad('a', 15), null, ad('c', 40)];
    const buffet = [ad('x', 10), ad('y', 5)];
    const limits = { maxAds: 4, maxDurationMs: 60_000 };
    assert.deepEqual(assemblePod(primary, buffet, limits), assemblePod(primary, buffet, limits));
  });
});
