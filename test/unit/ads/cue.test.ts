/** Ad break cues from the live origin's POST: what is accepted, and what is refused with the field named. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cueExpired, parseCue } from '../../../src/live/cue.ts';
import { RequestError } from '../../../src/ads/request-error.ts';

const NOW = Date.UTC(2026, 10, 25, 20, 0, 0);
const cue = { liveEventId: 'final-2026', breakId: 'b-3', startsAt: NOW + 30_000, durationMs: 90_000 };

describe('live cues', () => {
  it('accepts ms or ISO 8601 start times and defaults what the origin may omit', () => {
    assert.deepEqual(parseCue(cue, NOW), { ...cue, podMaxAds: null, issuedAt: NOW });
    assert.equal(parseCue({ ...cue, startsAt: '2026-11-25T20:00:30Z', podMaxAds: 4 }, NOW).startsAt, NOW + 30_000);
  });

  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['no break id', { ...cue, breakId: undefined }, 'breakId'],
    ['a live event id with spaces', { ...cue, liveEventId: 'the final' }, 'liveEventId'],
    ['no start', { ...cue, startsAt: undefined }, 'startsAt'],
    ['a start that is not a time', { ...cue, startsAt: 'soon' }, 'startsAt'],
    ['a break under a second', { ...cue, durationMs: 500 }, 'durationMs'],
    ['a pod of 40 ads', { ...cue, podMaxAds: 40 }, 'podMaxAds'],
    ['an unknown field', { ...cue, channel: 'sports-1' }, 'channel'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what} with LIVE_BAD_CUE naming ${field}`, () => {
      assert.throws(
        () => parseCue(body, NOW),
        (e: unknown) => e instanceof RequestError && e.status === 400 && e.code === 'LIVE_BAD_CUE' && e.details.field === field,
      );
    });
  }

  it('knows when a break is over', () => {
    assert.equal(cueExpired(parseCue(cue, NOW), NOW + 119_999), false);
    assert.equal(cueExpired(parseCue(cue, NOW), NOW + 120_000), true);
  });
});
