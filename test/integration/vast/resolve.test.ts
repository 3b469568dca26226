import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveVast, resolveVastDocument, type LinearCreative, type VastResult } from '../../../src/ads/vast/index.ts';
import { inlineXml, startVastServer, wrapperXml, type VastServer } from './vast-server.ts';

// Every server here is on 127.0.0.1, which the SSRF guard refuses by default.
const local = { allowPrivateNetwork: true } as const;

function errorSummary(result: VastResult): [number, string][] {
  return result.errors.map((e) => [e.code, e.reason]);
}

describe('resolveVast: a successful chain', () => {
  let server: VastServer;
  let result: VastResult;
  before(async () => {
    const outer = wrapperXml('/middle.xml', {
      tag: 'outer',
      sequence: 2,
      extra: `<ViewableImpression><Viewable>https://outer.example/viewable</Viewable></ViewableImpression>
        <AdVerifications><Verification vendor="outer-omid"><JavaScriptResource><![CDATA[https://outer.example/omid.js]]></JavaScriptResource></Verification></AdVerifications>
        <Creatives><Creative><Linear>
          <TrackingEvents>
            <Tracking event="start"><![CDATA[https://outer.example/start]]></Tracking>
            <Tracking event="progress" offset="25%"><![CDATA[https://outer.example/progress-25]]></Tracking>
          </TrackingEvents>
          <VideoClicks><ClickTracking><![CDATA[https://outer.example/click]]></ClickTracking></VideoClicks>
        </Linear></Creative></Creatives>
        <Extensions><Extension type="outer"><o/></Extension></Extensions>`,
    });
    // The middle wrapper points onward with a relative URI, resolved against its own URL.
    const middle = wrapperXml('inline.xml', {
      tag: 'middle',
      extra: `<Impression><![CDATA[https://inline.example/impression]]></Impression>
        <Creatives><Creative><Linear><TrackingEvents><Tracking event="start"><![CDATA[https://middle.example/start]]></Tracking></TrackingEvents></Linear></Creative></Creatives>`,
    });
    server = await startVastServer({ '/outer.xml': { body: outer }, '/chain/middle.xml': { body: middle }, '/middle.xml': { status: 302, headers: { location: '/chain/middle.xml' } }, '/chain/inline.xml': { body: inlineXml({ tag: 'inline' }) } });
    result = await resolveVast(server.url('/outer.xml'), local);
  });
  after(() => server.close());

  it('reaches the InLine ad with no error', () => {
    assert.deepEqual(result.errors, []);
    assert.equal(result.version, '4.2');
    assert.equal(result.ads.length, 1);
    assert.equal(result.ads[0]!.kind, 'inline');
    assert.equal(result.ads[0]!.adTitle, 'inline');
  });

  it('lists the wrapper URIs followed, outermost first', () => {
    assert.deepEqual(result.ads[0]!.wrapperUris, [server.url('/middle.xml'), server.url('/chain/inline.xml')]);
  });

  it("merges impressions and errors, wrappers' first, duplicates kept", () => {
    assert.deepEqual(result.ads[0]!.impressionUris, [
      'https://outer.example/impression',
      'https://middle.example/impression',
      'https://inline.example/impression',
      'https://inline.example/impression',
    ]);
    assert.deepEqual(result.ads[0]!.errorUris, [
      'https://outer.example/error?code=[ERRORCODE]',
      'https://middle.example/error?code=[ERRORCODE]',
      'https://inline.example/error?code=[ERRORCODE]',
    ]);
  });

  it("merges tracking and click tracking into the InLine's creatives, wrappers' first", () => {
    const linear = result.ads[0]!.creatives[0] as LinearCreative;
    assert.deepEqual(
      linear.tracking['start']?.map((t) => t.uri),
      ['https://outer.example/start', 'https://middle.example/start', 'https://inline.example/start'],
    );
    assert.deepEqual(linear.tracking['progress'], [{ uri: 'https://outer.example/progress-25', offset: '25%' }]);
    assert.deepEqual(linear.clickTrackingUris, ['https://outer.example/click']);
    assert.equal(linear.mediaFiles[0]!.uri, 'https://cdn.example/inline.mp4');
  });

  it('merges viewability, verification and extensions', () => {
    const ad = result.ads[0]!;
    assert.deepEqual(ad.viewable.viewable, ['https://outer.example/viewable']);
    assert.deepEqual(
      ad.verifications.map((v) => v.vendor),
      ['outer-omid'],
    );
    assert.deepEqual(
      ad.extensions.map((e) => e.type),
      ['outer'],
    );
  });

  it("keeps the outermost wrapper's pod position", () => {
    assert.equal(result.ads[0]!.sequence, 2);
  });
});

describe('resolveVast: failures get their IAB code', () => {
  let server: VastServer;
  before(async () => {
    server = await startVastServer({
      '/loop-a.xml': { body: wrapperXml('/loop-b.xml', { tag: 'a' }) },
      '/loop-b.xml': { body: wrapperXml('/loop-a.xml', { tag: 'b' }) },
      '/with-macros.xml': { body: wrapperXml('/inline.xml?cb=[CACHEBUSTING]&ifa=[IFA]&x=[UNKNOWN_THING]', { tag: 'm' }) },
      '/to-404.xml': { body: wrapperXml('/missing.xml', { tag: 'w404' }) },
      '/to-slow.xml': { body: wrapperXml('/slow.xml', { tag: 'wslow' }) },
      '/slow.xml': { body: inlineXml(), delayMs: 2000 },
      '/to-empty.xml': { body: wrapperXml('/empty.xml', { tag: 'wempty' }) },
      '/empty.xml': { body: '' },
      '/to-broken.xml': { body: wrapperXml('/broken.xml', { tag: 'wbroken' }) },
      '/broken.xml': { body: '<VAST version="4.2"><Ad><InLine>' },
      '/to-vast1.xml': { body: wrapperXml('/vast1.xml', { tag: 'wv1' }) },
      '/vast1.xml': { body: '<VideoAdServingTemplate><Ad id="old"/></VideoAdServingTemplate>' },
      '/to-big.xml': { body: wrapperXml('/big.xml', { tag: 'wbig' }) },
      '/big.xml': { body: inlineXml().replace('<AdTitle>', `<AdTitle>${'x'.repeat(5000)}`) },
      '/w1.xml': { body: wrapperXml('/w2.xml', { tag: 'w1' }) },
      '/w2.xml': { body: wrapperXml('/w3.xml', { tag: 'w2' }) },
      '/w3.xml': { body: wrapperXml('/inline.xml', { tag: 'w3' }) },
      '/inline.xml': { body: inlineXml() },
      '/slow-w1.xml': { body: wrapperXml('/slow-w2.xml', { tag: 'sw1' }), delayMs: 150 },
      '/slow-w2.xml': { body: wrapperXml('/inline.xml', { tag: 'sw2' }), delayMs: 150 },
    });
  });
  after(() => server.close());

  it('detects a loop with 302 and reports it to every wrapper of the loop', async () => {
    const r = await resolveVast(server.url('/loop-a.xml'), local);
    assert.deepEqual(errorSummary(r), [[302, 'VAST_WRAPPER_LOOP']]);
    assert.deepEqual(r.errors[0]!.errorUris, ['https://a.example/error?code=[ERRORCODE]', 'https://b.example/error?code=[ERRORCODE]']);
    assert.deepEqual(r.ads, []);
    assert.deepEqual(server.hits.filter((h) => h.startsWith('/loop')), ['/loop-a.xml', '/loop-b.xml'], 'the loop is not fetched again');
  });

  it('fills in macros of a VASTAdTagURI before fetching it', async () => {
    const r = await resolveVast(server.url('/with-macros.xml'), { ...local, macros: { IFA: 'dev ice' } });
    assert.deepEqual(r.errors, []);
    const hit = server.hits.find((h) => h.startsWith('/inline.xml?'));
    assert.match(hit ?? '', /^\/inline\.xml\?cb=\d{8}&ifa=dev%20ice&x=\[UNKNOWN_THING\]$/);
    assert.deepEqual(r.ads[0]!.wrapperUris, [server.url('/inline.xml?cb=[CACHEBUSTING]&ifa=[IFA]&x=[UNKNOWN_THING]')], 'the URI as written');
  });

  it('reports a 404 as 301, with the status in the message', async () => {
    const r = await resolveVast(server.url('/to-404.xml'), local);
    assert.deepEqual(errorSummary(r), [[301, 'NET_HTTP_STATUS']]);
    assert.match(r.errors[0]!.message, /HTTP 404/);
    assert.equal(r.errors[0]!.uri, server.url('/missing.xml'));
    assert.deepEqual(r.errors[0]!.errorUris, ['https://w404.example/error?code=[ERRORCODE]']);
  });

  it('reports a timeout as 301 without waiting for the slow server', async () => {
    const started = performance.now();
    const r = await resolveVast(server.url('/to-slow.xml'), { ...local, timeoutMs: 200 });
    const took = performance.now() - started;
    assert.deepEqual(errorSummary(r), [[301, 'NET_TIMEOUT']]);
    assert.ok(took < 1500, `took ${Math.round(took)} ms`);
  });

  it('stops at the total deadline with 301', async () => {
    const r = await resolveVast(server.url('/slow-w1.xml'), { ...local, deadlineMs: 250 });
    assert.deepEqual(errorSummary(r), [[301, 'VAST_DEADLINE_EXCEEDED']]);
    assert.deepEqual(r.errors[0]!.errorUris, ['https://sw1.example/error?code=[ERRORCODE]']);
  });

  it('reports an empty response as 303', async () => {
    const r = await resolveVast(server.url('/to-empty.xml'), local);
    assert.deepEqual(errorSummary(r), [[303, 'VAST_NO_ADS']]);
    assert.deepEqual(r.errors[0]!.errorUris, ['https://wempty.example/error?code=[ERRORCODE]']);
  });

  it("reports broken XML behind a wrapper as 100 to the wrapper's Error URIs", async () => {
    const r = await resolveVast(server.url('/to-broken.xml'), local);
    assert.deepEqual(errorSummary(r), [[100, 'VAST_XML_INVALID']]);
    assert.deepEqual(r.errors[0]!.errorUris, ['https://wbroken.example/error?code=[ERRORCODE]']);
    assert.equal(r.errors[0]!.uri, server.url('/broken.xml'));
  });

  it('reports VAST 1.0 behind a wrapper as 102', async () => {
    const r = await resolveVast(server.url('/to-vast1.xml'), local);
    assert.deepEqual(errorSummary(r), [[102, 'VAST_VERSION_UNSUPPORTED']]);
  });

  it('refuses a response over maxBytes with 301', async () => {
    const r = await resolveVast(server.url('/to-big.xml'), { ...local, maxBytes: 4096 });
    assert.deepEqual(errorSummary(r), [[301, 'NET_RESPONSE_TOO_LARGE']]);
  });

  it('stops at the wrapper limit with 302, and follows the same chain under the default limit', async () => {
    const limited = await resolveVast(server.url('/w1.xml'), { ...local, wrapperLimit: 2 });
    assert.deepEqual(errorSummary(limited), [[302, 'VAST_WRAPPER_LIMIT']]);
    assert.deepEqual(limited.errors[0]!.errorUris, [
      'https://w1.example/error?code=[ERRORCODE]',
      'https://w2.example/error?code=[ERRORCODE]',
      'https://w3.example/error?code=[ERRORCODE]',
    ]);
    const full = await resolveVast(server.url('/w1.xml'), local);
    assert.deepEqual(full.errors, []);
    assert.equal(full.ads[0]!.wrapperUris.length, 3);
  });

  it('cannot follow a relative VASTAdTagURI without a base URL', async () => {
    const r = await resolveVastDocument(wrapperXml('next.xml'), null, local);
    assert.deepEqual(errorSummary(r), [[301, 'NET_URL_INVALID']]);
  });
});

describe('resolveVast: wrapper attributes', () => {
  let server: VastServer;
  const pod = `<VAST version="4.2">
    <Ad id="p1" sequence="1"><InLine><AdSystem>p</AdSystem><Creatives><Creative><Linear><Duration>00:00:05</Duration></Linear></Creative></Creatives></InLine></Ad>
    <Ad id="p2" sequence="2"><InLine><AdSystem>p</AdSystem><Creatives><Creative><Linear><Duration>00:00:05</Duration></Linear></Creative></Creatives></InLine></Ad>
    <Ad id="b1"><InLine><AdSystem>b</AdSystem><Creatives><Creative><Linear><Duration>00:00:05</Duration></Linear></Creative></Creatives></InLine></Ad>
  </VAST>`;
  const podOnly = pod.replace(/<Ad id="b1">.*<\/Ad>/, '');
  before(async () => {
    server = await startVastServer({
      '/follow-false.xml': { body: wrapperXml('/another-wrapper.xml', { tag: 'ff', attributes: 'followAdditionalWrappers="false"' }) },
      '/another-wrapper.xml': { body: wrapperXml('/never.xml', { tag: 'aw' }) },
      '/follow-false-inline.xml': { body: wrapperXml('/inline.xml', { tag: 'ffi', attributes: 'followAdditionalWrappers="false"' }) },
      '/inline.xml': { body: inlineXml() },
      '/multi-false.xml': { body: wrapperXml('/pod.xml', { tag: 'mf' }) },
      '/multi-true.xml': { body: wrapperXml('/pod.xml', { tag: 'mt', attributes: 'allowMultipleAds="true"' }) },
      '/multi-false-pod-only.xml': { body: wrapperXml('/pod-only.xml', { tag: 'mfp', attributes: 'allowMultipleAds="false"' }) },
      '/pod.xml': { body: pod },
      '/pod-only.xml': { body: podOnly },
      '/fallback-true.xml': { body: fallbackDoc('true') },
      '/fallback-false.xml': { body: fallbackDoc('false') },
      '/buffet.xml': { body: inlineXml({ id: 'from-buffet', tag: 'buffet' }) },
    });
  });
  after(() => server.close());

  function fallbackDoc(fallback: string): string {
    return `<VAST version="4.2">
      <Ad id="slot-1" sequence="1"><Wrapper fallbackOnNoAd="${fallback}"><AdSystem>f</AdSystem>
        <VASTAdTagURI>/nothing-here.xml</VASTAdTagURI><Error>https://slot.example/error?code=[ERRORCODE]</Error></Wrapper></Ad>
      <Ad id="slot-2" sequence="2"><InLine><AdSystem>s2</AdSystem><Creatives><Creative><Linear><Duration>00:00:05</Duration></Linear></Creative></Creatives></InLine></Ad>
      <Ad id="buffet-wrapper"><Wrapper><AdSystem>bw</AdSystem><VASTAdTagURI>/buffet.xml</VASTAdTagURI></Wrapper></Ad>
    </VAST>`;
  }

  it('followAdditionalWrappers="false" ignores a wrapper in the response: 303, and it is not fetched', async () => {
    const r = await resolveVast(server.url('/follow-false.xml'), local);
    assert.deepEqual(errorSummary(r), [[303, 'VAST_NO_ADS']]);
    assert.match(r.errors[0]!.message, /followAdditionalWrappers/);
    assert.deepEqual(r.errors[0]!.errorUris, ['https://ff.example/error?code=[ERRORCODE]']);
    assert.ok(!server.hits.includes('/never.xml'));
  });

  it('followAdditionalWrappers="false" still accepts an InLine response', async () => {
    const r = await resolveVast(server.url('/follow-false-inline.xml'), local);
    assert.deepEqual(r.errors, []);
    assert.equal(r.ads.length, 1);
  });

  it('allowMultipleAds defaults to false: only the first stand-alone ad of the response is used', async () => {
    const r = await resolveVast(server.url('/multi-false.xml'), local);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.ads.map((a) => a.id),
      ['b1'],
    );
  });

  it('allowMultipleAds="true" keeps the pod and the buffet, pod first', async () => {
    const r = await resolveVast(server.url('/multi-true.xml'), local);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.ads.map((a) => [a.id, a.sequence]),
      [
        ['p1', 1],
        ['p2', 2],
        ['b1', null],
      ],
    );
    for (const ad of r.ads) assert.deepEqual(ad.impressionUris, ['https://mt.example/impression'], 'each ad carries the wrapper impression');
  });

  it('allowMultipleAds="false" refuses a pod with no stand-alone ad: 303', async () => {
    const r = await resolveVast(server.url('/multi-false-pod-only.xml'), local);
    assert.deepEqual(errorSummary(r), [[303, 'VAST_NO_ADS']]);
    assert.match(r.errors[0]!.message, /allowMultipleAds/);
  });

  it('fallbackOnNoAd="true": a buffet ad takes the place of a pod wrapper that yields nothing', async () => {
    const r = await resolveVast(server.url('/fallback-true.xml'), local);
    assert.deepEqual(errorSummary(r), [[301, 'NET_HTTP_STATUS']]);
    assert.deepEqual(
      r.ads.map((a) => [a.id, a.sequence]),
      [
        ['from-buffet', 1],
        ['slot-2', 2],
      ],
    );
  });

  it('fallbackOnNoAd="false": the empty pod slot is skipped and the buffet stays a buffet', async () => {
    const r = await resolveVast(server.url('/fallback-false.xml'), local);
    assert.deepEqual(errorSummary(r), [[301, 'NET_HTTP_STATUS']]);
    assert.deepEqual(
      r.ads.map((a) => [a.id, a.sequence]),
      [
        ['slot-2', 2],
        ['from-buffet', null],
      ],
    );
  });
});

describe('resolveVast: firing Error URIs', () => {
  let server: VastServer;
  before(async () => {
    // The Error URIs point back at this server, so that firing them can be observed.
    const wrapper = (next: string, name: string): string =>
      wrapperXml(next, { tag: name }).replace(/https:\/\/[a-z0-9]+\.example\/error\?code=\[ERRORCODE\]/, server.url(`/err/${name}?code=[ERRORCODE]&t=[TIMESTAMP]&ifa=[IFA]&ua=[DEVICEUA]`));
    server = await startVastServer({
      '/outer.xml': () => ({ body: wrapper('/inner.xml', 'outer') }),
      '/inner.xml': () => ({ body: wrapper('/gone.xml', 'inner') }),
      '/err/outer': { status: 204 },
      '/err/inner': { status: 204 },
    });
  });
  after(() => server.close());

  it('does not fire anything unless asked', async () => {
    const r = await resolveVast(server.url('/outer.xml'), local);
    assert.deepEqual(errorSummary(r), [[301, 'NET_HTTP_STATUS']]);
    assert.equal(r.firedErrorUris, undefined);
    assert.ok(!server.hits.some((h) => h.startsWith('/err/')));
  });

  it('fires the Error URI of every wrapper involved, [ERRORCODE] filled in and unknown macros as -1', async () => {
    const r = await resolveVast(server.url('/outer.xml'), { ...local, fireErrors: true, macros: { IFA: 'abc-123' } });
    assert.deepEqual(errorSummary(r), [[301, 'NET_HTTP_STATUS']]);
    const fired = server.hits.filter((h) => h.startsWith('/err/'));
    assert.deepEqual(fired.map((h) => h.replace(/&t=[^&]+/, '&t=T')).sort(), ['/err/inner?code=301&t=T&ifa=abc-123&ua=-1', '/err/outer?code=301&t=T&ifa=abc-123&ua=-1']);
    for (const h of fired) assert.match(decodeURIComponent(new URL(h, 'http://x').searchParams.get('t') ?? ''), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
    assert.deepEqual(
      r.firedErrorUris?.map((f) => f.status),
      [204, 204],
    );
  });
});
