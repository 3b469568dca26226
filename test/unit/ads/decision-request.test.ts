/**
 * The decision request the playback service sends: what it may omit, and the
 * message (naming the field) it gets back for what it got wrong.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDecisionRequest } from '../../../src/ads/decision/request.ts';
import { RequestError } from '../../../src/ads/request-error.ts';

const minimal = { playbackSessionId: 'ps-1', contentId: 'movie-9', breakPosition: 'preroll' };

describe('decision request', () => {
  it('fills in what may be omitted', () => {
    const request = parseDecisionRequest(minimal);
    assert.equal(request.liveEventId, null);
    assert.equal(request.breakId, null);
    assert.equal(request.podMaxAds, null, 'null: the configured default applies');
    assert.deepEqual(request.device, { ip: null, userAgent: null, ifa: null, ifaType: null, deviceId: null, profileId: null, acceptLanguage: null, referer: null });
    assert.deepEqual(request.consent, { gdprApplies: null, tcf: null, gpp: null, gppSid: [], limitAdTracking: false });
  });

  it('reads a complete live request', () => {
    const request = parseDecisionRequest({
      ...minimal,
      breakPosition: 'midroll',
      liveEventId: 'final-2026',
      breakId: 'b-17',
      podMaxDurationMs: 90_000,
      podMaxAds: 4,
      country: 'us',
      deviceClass: 'ctv',
      device: { ip: '203.0.113.1', userAgent: 'Roku', ifa: 'ifa-1', ifaType: 'rida', deviceId: 'd-1', profileId: 'p-1' },
      consent: { gdprApplies: true, tcf: 'CPX', gpp: 'DBA', gppSid: [2, 7], limitAdTracking: false },
    });
    assert.equal(request.country, 'US');
    assert.equal(request.podMaxAds, 4);
    assert.deepEqual(request.consent.gppSid, [2, 7]);
  });

  const bad: Array<[string, unknown, string]> = [
    ['a body that is not an object', [minimal], 'body'],
    ['no playback session', { ...minimal, playbackSessionId: undefined }, 'playbackSessionId'],
    ['a content id with spaces', { ...minimal, contentId: 'a b' }, 'contentId'],
    ['no break position', { ...minimal, breakPosition: undefined }, 'breakPosition'],
    ['an unknown break position', { ...minimal, breakPosition: 'overlay' }, 'breakPosition'],
    ['a pod of 0 ads', { ...minimal, podMaxAds: 0 }, 'podMaxAds'],
    ['a fractional duration', { ...minimal, podMaxDurationMs: 1500.5 }, 'podMaxDurationMs'],
    ['an unknown field', { ...minimal, adUnit: 'x' }, 'adUnit'],
    ['an unknown device field', { ...minimal, device: { mac: 'x' } }, 'device.mac'],
    ['a numeric device ip', { ...minimal, device: { ip: 12 } }, 'device.ip'],
    ['a gdprApplies string', { ...minimal, consent: { gdprApplies: 'yes' } }, 'consent.gdprApplies'],
    ['gppSid that is not a list', { ...minimal, consent: { gppSid: '2' } }, 'consent.gppSid'],
    ['a three-letter country', { ...minimal, country: 'USA' }, 'country'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(
        () => parseDecisionRequest(body),
        (e: unknown) => e instanceof RequestError && e.status === 400 && e.code === 'DECISION_BAD_REQUEST' && e.details.field === field && e.message.includes(`"${field}"`),
      );
    });
  }
});
