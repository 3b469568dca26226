import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseVast, type Ad, type CompanionCreative, type LinearCreative, type NonLinearCreative } from '../../../src/ads/vast/index.ts';

const fullXml = readFileSync(new URL('../../fixtures/vast/inline-4.3-full.xml', import.meta.url), 'utf8');
const full = parseVast(fullXml);

function ad(id: string): Ad {
  const found = full.ads.find((a) => a.id === id);
  assert.ok(found, `ad ${id} is in the result`);
  return found;
}
const main = ad('0012');
const linear = main.creatives.find((c): c is LinearCreative => c.type === 'linear')!;
const companions = main.creatives.filter((c): c is CompanionCreative => c.type === 'companion');
const nonLinears = ad('pod-2').creatives.filter((c): c is NonLinearCreative => c.type === 'nonlinear');

describe('parseVast: ad structure', () => {
  it('parses a clean VAST 4.3 document with no error and keeps the version', () => {
    assert.deepEqual(full.errors, []);
    assert.equal(full.version, '4.3');
  });

  it('puts pod ads first in sequence order, then buffet ads in document order', () => {
    assert.deepEqual(
      full.ads.map((a) => [a.id, a.sequence]),
      [
        ['0012', 1],
        ['pod-2', 2],
        ['buffet-1', null],
      ],
    );
  });

  it('reads the ad-level elements, ids kept as strings', () => {
    assert.equal(main.id, '0012');
    assert.equal(main.kind, 'inline');
    assert.equal(main.adType, 'video');
    assert.equal(main.adSystem, 'Quartile Test Server');
    assert.equal(main.adSystemVersion, '4.3');
    assert.equal(main.adServingId, 'QuartileTest-6f1c2a1e-93c8-4c55-bd4a-3c0c2f6a9d10');
    assert.equal(main.adTitle, 'Spring sale', 'CDATA with surrounding whitespace is trimmed');
    assert.equal(main.advertiser, 'Example Shoes');
    assert.equal(main.description, 'Running shoes & socks', 'entities in text are decoded');
    assert.deepEqual(main.categories, [
      { authority: 'https://iabtechlab.com/categoryauthority', value: 'IAB18-3' },
      { authority: 'https://iabtechlab.com/categoryauthority', value: 'IAB17' },
    ]);
    assert.deepEqual(main.pricing, { model: 'CPM', currency: 'EUR', value: 12.5 });
    assert.equal(main.expiresSeconds, 3600);
    assert.equal(main.wrapperPolicy, null);
    assert.deepEqual(main.wrapperUris, []);
  });

  it('keeps impressions, errors and viewable impressions, trimmed, skipping empty ones', () => {
    assert.deepEqual(main.impressionUris, ['https://adserver.example/impression?cb=[CACHEBUSTING]', 'https://measure.example/imp']);
    assert.deepEqual(main.errorUris, ['https://adserver.example/error?code=[ERRORCODE]']);
    assert.deepEqual(main.viewable, {
      viewable: ['https://measure.example/viewable'],
      notViewable: ['https://measure.example/not-viewable'],
      viewUndetermined: ['https://measure.example/undetermined'],
    });
    assert.deepEqual(full.errorUris, ['https://adserver.example/no-ad?code=[ERRORCODE]']);
    assert.deepEqual(ad('pod-2').impressionUris, ['https://adserver.example/pod2/impression?a=1&b=2']);
  });

  it('keeps each Extension as raw XML, with its type', () => {
    assert.equal(main.extensions.length, 2);
    assert.equal(main.extensions[0]!.type, 'waterfall');
    assert.equal(main.extensions[0]!.xml.trim(), '<Waterfall index="0" total="3"><![CDATA[ keep me ]]></Waterfall>');
    assert.deepEqual(main.extensions[1], { type: null, xml: '<Note>no type &amp; raw</Note>' });
  });

  it('reads AdVerifications: vendor, scripts, parameters and tracking', () => {
    assert.deepEqual(main.verifications, [
      {
        vendor: 'verifier.example-omid',
        javascriptUris: ['https://verifier.example/omid.js'],
        executableUris: ['https://verifier.example/native.bin'],
        parameters: '{"campaign":"spring"}',
        tracking: { verificationNotExecuted: ['https://verifier.example/not-executed?reason=[REASON]'] },
      },
    ]);
  });
});

describe('parseVast: creatives', () => {
  it('gives one entry per Linear, per NonLinear and per Companion', () => {
    assert.deepEqual(
      main.creatives.map((c) => c.type),
      ['linear', 'companion', 'companion'],
    );
    assert.deepEqual(
      nonLinears.map((c) => c.elementId),
      ['overlay-1', 'overlay-2'],
    );
  });

  it('reads the Linear: ids, duration with milliseconds, skipoffset as a percentage', () => {
    assert.equal(linear.id, 'c-linear');
    assert.equal(linear.adId, 'ad-linear');
    assert.equal(linear.sequence, 1);
    assert.equal(linear.creativeApiFramework, 'SIMID');
    assert.equal(linear.durationMs, 30_500);
    assert.equal(linear.skipOffset, '25%');
    assert.equal(linear.skipOffsetMs, 7625);
    assert.equal(linear.adParameters, '{"skin":"dark"}');
  });

  it('keeps several UniversalAdIds, even when they follow the Linear', () => {
    assert.deepEqual(linear.universalAdIds, [
      { idRegistry: 'ad-id.org', value: 'CNPA0484000H' },
      { idRegistry: 'clearcast.co.uk', value: 'ABC/DEFG123/030' },
    ]);
  });

  it('reads MediaFiles with numeric attributes as numbers, and Mezzanine, interactive and caption files', () => {
    assert.deepEqual(linear.mediaFiles[0], {
      uri: 'https://cdn.example/spring-1080.mp4',
      id: 'mf-1',
      type: 'video/mp4',
      delivery: 'progressive',
      width: 1920,
      height: 1080,
      bitrate: 4500,
      minBitrate: 4000,
      maxBitrate: 5000,
      codec: 'avc1.640028',
      apiFramework: null,
      fileSize: 16_000_000,
      mediaType: '2D',
    });
    assert.equal(linear.mediaFiles[1]!.bitrate, null);
    assert.deepEqual(
      linear.mezzanine.map((m) => [m.uri, m.width, m.codec]),
      [['https://cdn.example/spring-mezzanine.mov', 3840, 'prores']],
    );
    assert.deepEqual(linear.interactiveCreativeFiles, [
      { uri: 'https://cdn.example/simid.html', type: 'text/html', apiFramework: 'SIMID', variableDuration: true },
    ]);
    assert.deepEqual(
      linear.closedCaptionFiles.map((c) => c.language),
      ['en', 'fr'],
    );
  });

  it('reads VideoClicks and tracking events, progress offsets kept as served', () => {
    assert.equal(linear.clickThrough, 'https://advertiser.example/landing?utm=vast');
    assert.deepEqual(linear.clickTrackingUris, ['https://adserver.example/click']);
    assert.deepEqual(linear.customClickUris, ['https://adserver.example/custom-click']);
    assert.deepEqual(linear.tracking['progress'], [
      { uri: 'https://adserver.example/progress-5s', offset: '00:00:05.000' },
      { uri: 'https://adserver.example/progress-50', offset: '50%' },
    ]);
    assert.deepEqual(
      linear.tracking['complete']?.map((t) => t.uri),
      ['https://adserver.example/complete', 'https://measure.example/complete'],
    );
  });

  it('treats an event named __proto__ as a plain event name', () => {
    assert.deepEqual(linear.tracking['__proto__'], [{ uri: 'https://adserver.example/odd-event-name' }]);
    assert.equal(({} as Record<string, unknown>)['uri'], undefined, 'Object.prototype is untouched');
  });

  it('reads Icons', () => {
    assert.equal(linear.icons.length, 1);
    const icon = linear.icons[0]!;
    assert.equal(icon.program, 'AdChoices');
    assert.equal(icon.durationMs, 10_000);
    assert.equal(icon.offset, '00:00:01');
    assert.deepEqual(icon.resources, [{ kind: 'static', value: 'https://cdn.example/adchoices.png', creativeType: 'image/png' }]);
    assert.equal(icon.clickThrough, 'https://adchoices.example/');
    assert.deepEqual(icon.clickTrackingUris, ['https://adserver.example/icon-click']);
    assert.deepEqual(icon.viewTrackingUris, ['https://adserver.example/icon-view']);
  });

  it('reads NonLinearAds: resources, clicks, and the shared tracking in every entry', () => {
    const [first, second] = nonLinears;
    assert.equal(first!.width, 300);
    assert.equal(first!.minSuggestedDurationMs, 10_000);
    assert.equal(first!.apiFramework, 'SIMID');
    assert.deepEqual(first!.resources, [{ kind: 'static', value: 'https://cdn.example/overlay.png', creativeType: 'image/png' }]);
    assert.equal(first!.clickThrough, 'https://advertiser.example/overlay');
    assert.deepEqual(first!.clickTrackingUris, ['https://adserver.example/overlay/click']);
    assert.deepEqual(second!.resources, [{ kind: 'iframe', value: 'https://cdn.example/overlay.html', creativeType: null }]);
    for (const entry of nonLinears) assert.deepEqual(entry.tracking['creativeView'], [{ uri: 'https://adserver.example/overlay/view' }]);
  });

  it('reads CompanionAds: resources, alt text, slot, click and view tracking', () => {
    const [image, html] = companions;
    assert.equal(image!.elementId, 'comp-300');
    assert.equal(image!.id, 'c-companion', 'the Creative id is shared by its companions');
    assert.equal(image!.adSlotId, 'sidebar');
    assert.equal(image!.required, 'any');
    assert.equal(image!.altText, 'Spring sale banner');
    assert.equal(image!.clickThrough, 'https://advertiser.example/companion');
    assert.deepEqual(image!.clickTrackingUris, ['https://adserver.example/companion-click']);
    assert.deepEqual(image!.tracking['creativeView'], [{ uri: 'https://adserver.example/companion-view' }]);
    // CDATA is literal: the &amp; inside it is not decoded, and its <!DOCTYPE html> is not a declaration.
    assert.deepEqual(html!.resources, [{ kind: 'html', value: '<!DOCTYPE html><p>Spring &amp; sale</p>', creativeType: null }]);
  });
});

describe('parseVast: wrappers and older versions', () => {
  const wrapper = parseVast(`<VAST version="4.1">
    <Ad id="w" sequence="3"><Wrapper followAdditionalWrappers="0" allowMultipleAds="true" fallbackOnNoAd="True">
      <AdSystem>W</AdSystem>
      <VASTAdTagURI>
        <![CDATA[ https://next.example/vast?cb=[CACHEBUSTING] ]]>
      </VASTAdTagURI>
      <Impression>https://w.example/imp</Impression>
    </Wrapper></Ad></VAST>`);

  it('returns an unfollowed wrapper with its VASTAdTagURI and attributes', () => {
    assert.deepEqual(wrapper.errors, []);
    const [w] = wrapper.ads;
    assert.equal(w!.kind, 'wrapper');
    assert.equal(w!.vastAdTagUri, 'https://next.example/vast?cb=[CACHEBUSTING]');
    assert.deepEqual(w!.wrapperPolicy, { followAdditionalWrappers: false, allowMultipleAds: true, fallbackOnNoAd: true });
    assert.deepEqual(w!.wrapperUris, [], 'nothing was followed');
  });

  it('defaults the wrapper attributes as VAST 4 says, and allows multiple ads before VAST 3', () => {
    const v4 = parseVast('<VAST version="4.0"><Ad><Wrapper><VASTAdTagURI>https://n.example/</VASTAdTagURI></Wrapper></Ad></VAST>');
    assert.deepEqual(v4.ads[0]!.wrapperPolicy, { followAdditionalWrappers: true, allowMultipleAds: false, fallbackOnNoAd: null });
    const v2 = parseVast('<VAST version="2.0"><Ad><Wrapper><VASTAdTagURI>https://n.example/</VASTAdTagURI></Wrapper></Ad></VAST>');
    assert.equal(v2.ads[0]!.wrapperPolicy!.allowMultipleAds, true);
  });

  it('reads the VAST 1 style <VASTAdTagURL><URL> met in VAST 2 wrappers', () => {
    const legacy = parseVast('<VAST version="2.0"><Ad><Wrapper><VASTAdTagURL><URL><![CDATA[https://n.example/legacy]]></URL></VASTAdTagURL></Wrapper></Ad></VAST>');
    assert.equal(legacy.ads[0]!.vastAdTagUri, 'https://n.example/legacy');
  });

  it('reports a wrapper without VASTAdTagURI as 101 and skips it', () => {
    const r = parseVast('<VAST version="3.0"><Ad id="x"><Wrapper><Error>https://e.example/[ERRORCODE]</Error></Wrapper></Ad></VAST>');
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.adId, e.errorUris]),
      [
        [101, 'x', ['https://e.example/[ERRORCODE]']],
        [303, undefined, []],
      ],
    );
    assert.deepEqual(r.ads, []);
  });

  it('reads the VAST 3 AdVerifications extension when there is no AdVerifications element', () => {
    const r = parseVast(`<VAST version="3.0"><Ad><InLine><AdSystem>s</AdSystem>
      <Creatives><Creative><Linear><Duration>00:00:10</Duration></Linear></Creative></Creatives>
      <Extensions><Extension type="AdVerifications"><AdVerifications>
        <Verification vendor="v.example-omid"><JavaScriptResource apiFramework="omid"><![CDATA[ https://v.example/omid.js ]]></JavaScriptResource>
        <VerificationParameters>a=1&amp;b=2</VerificationParameters></Verification>
      </AdVerifications></Extension></Extensions></InLine></Ad></VAST>`);
    assert.deepEqual(r.ads[0]!.verifications, [
      { vendor: 'v.example-omid', javascriptUris: ['https://v.example/omid.js'], executableUris: [], parameters: 'a=1&b=2', tracking: {} },
    ]);
    assert.equal(r.ads[0]!.extensions[0]!.type, 'AdVerifications', 'the extension itself is kept too');
  });

  it('reads a VAST 4.0 UniversalAdId given as an idValue attribute', () => {
    const r = parseVast(`<VAST version="4.0"><Ad><InLine><Creatives><Creative>
      <UniversalAdId idRegistry="Ad-ID" idValue="8465"/><Linear><Duration>00:00:05</Duration></Linear></Creative></Creatives></InLine></Ad></VAST>`);
    assert.deepEqual(r.ads[0]!.creatives[0]!.universalAdIds, [{ idRegistry: 'Ad-ID', value: '8465' }]);
  });
});

describe('parseVast: namespaces', () => {
  const inline = (open: string, close: string, p: string): string =>
    `${open}<${p}Ad id="n"><${p}InLine><${p}AdSystem>ns</${p}AdSystem><${p}Impression>https://i.example/</${p}Impression><${p}Creatives><${p}Creative><${p}Linear><${p}Duration>00:00:07</${p}Duration></${p}Linear></${p}Creative></${p}Creatives></${p}InLine></${p}Ad>${close}`;

  for (const [label, xml] of [
    ['without the IAB namespace', inline('<VAST version="4.2">', '</VAST>', '')],
    ['with the IAB namespace as default', inline('<VAST version="4.2" xmlns="http://www.iab.com/VAST">', '</VAST>', '')],
    ['with the IAB namespace bound to a prefix', inline('<v:VAST version="4.2" xmlns:v="http://www.iab.com/VAST">', '</v:VAST>', 'v:')],
  ] as const) {
    it(`reads a document ${label}`, () => {
      const r = parseVast(xml);
      assert.deepEqual(r.errors, []);
      assert.equal(r.ads[0]!.adSystem, 'ns');
      assert.deepEqual(r.ads[0]!.impressionUris, ['https://i.example/']);
      assert.equal(r.ads[0]!.creatives[0]!.durationMs, 7000);
    });
  }
});

describe('parseVast: no usable ad', () => {
  it('reports an empty response as 303, to the root Error URIs', () => {
    const r = parseVast('<VAST version="4.2"><Error>https://e.example/?c=[ERRORCODE]</Error></VAST>');
    assert.deepEqual(r.ads, []);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.reason, e.errorUris]),
      [[303, 'VAST_NO_ADS', ['https://e.example/?c=[ERRORCODE]']]],
    );
  });

  it('drops an InLine ad without creatives with 303, reported to its and the root Error URIs', () => {
    const r = parseVast(`<VAST version="4.2"><Error>https://root.example/</Error>
      <Ad id="bare"><InLine><AdSystem>s</AdSystem><Error>https://ad.example/</Error><Creatives/></InLine></Ad></VAST>`);
    assert.deepEqual(r.ads, []);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.adId, e.errorUris]),
      [[303, 'bare', ['https://ad.example/', 'https://root.example/']]],
    );
  });

  it('reads bytes, honouring the declared encoding', () => {
    const xml = '<?xml version="1.0" encoding="ISO-8859-1"?><VAST version="4.0"><Ad><InLine><AdTitle>Caf\u00e9</AdTitle><Creatives><Creative><Linear/></Creative></Creatives></InLine></Ad></VAST>';
    const r = parseVast(Buffer.from(xml, 'latin1'));
    assert.equal(r.ads[0]!.adTitle, 'Caf\u00e9');
  });
});
