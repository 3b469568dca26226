/** The macro values an ad source template is filled with, for a viewer and for a cohort prefetch. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decisionMacros, type MacroContext } from '../../../src/ads/decision/decision-macros.ts';
import { expandMacros } from '../../../src/ads/vast/index.ts';

const consent = { gdprApplies: true, tcf: 'CPX', gpp: 'DBA', gppSid: [2, 7], limitAdTracking: false };
const viewer: MacroContext = {
  decisionId: '0c341e6b-7238-4b4e-b8fa-9ab78569580b',
  contentId: 'movie 42',
  breakPosition: 'postroll',
  podMaxAds: 3,
  podMaxDurationMs: 90_500,
  liveEventId: null,
  breakId: null,
  cohort: 'US.ctv.personalized',
  country: 'US',
  deviceClass: 'ctv',
  consentClass: 'personalized',
  device: { ip: '203.0.113.7', userAgent: 'Roku/DVP-12.0', ifa: 'abc-123', ifaType: 'rida', deviceId: 'd', profileId: 'p', acceptLanguage: null, referer: null },
  consent,
};
const TEMPLATE =
  'https://ads.example/tag?ip=[DEVICEIP]&ua=[DEVICEUA]&ifa=[IFA]&lat=[LIMITADTRACKING]&gdpr=[GDPRCONSENT]&sid=[GPPSECTIONID]&reg=[REGULATIONS]' +
  '&pos=[BREAKPOSITION]&max=[BREAKMAXDURATION]&ads=[BREAKMAXADS]&tx=[TRANSACTIONID]&ss=[SERVERSIDE]&c=[CONTENTID]&co=[QUARTILE_COHORT]&brk=[QUARTILE_BREAK_ID]';

function query(ctx: MacroContext): Record<string, string> {
  return Object.fromEntries(new URL(expandMacros(TEMPLATE, decisionMacros(ctx))).searchParams);
}

describe('decision macros', () => {
  it('fills a viewer request from the decision', () => {
    assert.deepEqual(query(viewer), {
      ip: '203.0.113.7',
      ua: 'Roku/DVP-12.0',
      ifa: 'abc-123',
      lat: '0',
      gdpr: 'CPX',
      sid: '2,7',
      reg: 'gdpr',
      pos: '3',
      max: '90',
      ads: '3',
      tx: viewer.decisionId,
      ss: '1',
      c: 'movie 42',
      co: 'US.ctv.personalized',
      brk: '-1',
    });
  });

  it('withholds the IFA (-2) when the device limits ad tracking', () => {
    const q = query({ ...viewer, consent: { ...consent, limitAdTracking: true } });
    assert.deepEqual([q['ifa'], q['lat']], ['-2', '1']);
  });

  it('sends no viewer identity for a cohort prefetch, and says a server asks on its own', () => {
    const q = query({ ...viewer, device: null, consent: null, cohort: '*', breakId: 'b-7', liveEventId: 'final' });
    assert.deepEqual([q['ip'], q['ua'], q['ifa'], q['gdpr'], q['ss'], q['co'], q['brk']], ['-1', '-1', '-1', '-1', '2', '*', 'b-7']);
  });
});
