/**
 * Cohorts (which prefetched pod a viewer gets) and the shedder's priorities (which
 * work is refused first under load).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cohortKeyOf, cohortSpec, cohortValues, DEFAULT_COHORT } from '../../../src/live/cohorts.ts';
import { Shedder } from '../../../src/ads/manager/shedder.ts';
import { isQuartileError } from '../../../src/core/errors.ts';

const consent = { gdprApplies: null, tcf: null, gpp: null, gppSid: [], limitAdTracking: false };

describe('cohorts', () => {
  const spec = cohortSpec(['country', 'deviceClass', 'consent'], ['US.ctv.personalized', 'FR.mobile.contextual']);

  it('always prefetches the catch-all cohort, last', () => {
    assert.deepEqual(spec.cohorts, ['US.ctv.personalized', 'FR.mobile.contextual', DEFAULT_COHORT]);
  });

  const viewers: Array<[string, Parameters<typeof cohortKeyOf>[1], string]> = [
    ['a US Roku', { country: 'US', deviceClass: null, userAgent: 'Roku/DVP-12.0', consent }, 'US.ctv.personalized'],
    ['a French phone that limits tracking', { country: 'FR', deviceClass: null, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)', consent: { ...consent, limitAdTracking: true } }, 'FR.mobile.contextual'],
    ['a GDPR viewer without a TCF string', { country: 'DE', deviceClass: 'ctv', userAgent: null, consent: { ...consent, gdprApplies: true } }, 'DE.ctv.contextual'],
    ['a viewer the playback service knows nothing of', { country: null, deviceClass: null, userAgent: null, consent }, 'unknown.unknown.personalized'],
    ['a desktop browser', { country: 'US', deviceClass: null, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', consent }, 'US.desktop.personalized'],
  ];
  for (const [what, traits, key] of viewers) {
    it(`puts ${what} in ${key}`, () => assert.equal(cohortKeyOf(spec, traits), key));
  }

  it('gives a cohort its values back for the source macros', () => {
    assert.deepEqual(cohortValues(spec, 'US.ctv.personalized'), { country: 'US', deviceClass: 'ctv', consent: 'personalized' });
    assert.deepEqual(cohortValues(spec, DEFAULT_COHORT), {});
  });

  it('refuses cohorts that do not match the dimensions, naming the key', () => {
    assert.throws(() => cohortSpec(['country', 'planet'], []), (e: unknown) => isQuartileError(e, 'CONFIG_INVALID_VALUE') && e.message.includes('live.cohortDimensions'));
    assert.throws(() => cohortSpec(['country'], ['US.ctv']), (e: unknown) => isQuartileError(e, 'CONFIG_INVALID_VALUE') && e.message.includes('live.cohorts'));
  });
});

describe('shedder', () => {
  const thresholds = { maxInFlight: 10, shedPrefetchLagMs: 50, shedVodLagMs: 100, shedLiveLagMs: 300 };

  it('refuses prefetch first, then VOD, then live, as event-loop lag grows', () => {
    let lag = 0;
    const shedder = new Shedder(thresholds, () => lag);
    const admitted = (): string[] => (['prefetch', 'vod', 'live'] as const).filter((p) => shedder.admits(p));
    assert.deepEqual(admitted(), ['prefetch', 'vod', 'live']);
    lag = 60;
    assert.deepEqual(admitted(), ['vod', 'live']);
    lag = 150;
    assert.deepEqual(admitted(), ['live']);
    lag = 400;
    assert.deepEqual(admitted(), []);
  });

  it('keeps room for live decisions as work piles up', () => {
    const shedder = new Shedder(thresholds, () => 0);
    for (let i = 0; i < 5; i++) assert.ok(shedder.tryAcquire('vod'));
    assert.equal(shedder.tryAcquire('prefetch'), false, 'half full: prefetch waits');
    for (let i = 0; i < 3; i++) assert.ok(shedder.tryAcquire('vod'));
    assert.equal(shedder.tryAcquire('vod'), false, '80% full: VOD is shed');
    assert.ok(shedder.tryAcquire('live') && shedder.tryAcquire('live'));
    assert.equal(shedder.tryAcquire('live'), false, 'full');
    shedder.release();
    assert.ok(shedder.tryAcquire('live'));
    assert.equal(shedder.inFlight, 10);
  });
});
