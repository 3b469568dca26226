import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseVast, type Ad, type LinearCreative } from '../../../src/ads/vast/index.ts';
import { mergeWrappers } from '../../../src/ads/vast/merge.ts';

function only(xml: string): Ad {
  const { ads, errors } = parseVast(xml);
  assert.deepEqual(errors, []);
  assert.equal(ads.length, 1);
  return ads[0]!;
}

const inline = only(`<VAST version="4.2"><Ad id="in"><InLine><AdSystem>i</AdSystem>
  <Impression>https://in.example/imp</Impression>
  <Creatives>
    <Creative><Linear><Duration>00:00:10</Duration>
      <TrackingEvents><Tracking event="start">https://in.example/start</Tracking></TrackingEvents>
      <VideoClicks><ClickTracking>https://in.example/click</ClickTracking><CustomClick>https://in.example/custom</CustomClick></VideoClicks>
    </Linear></Creative>
    <Creative><NonLinearAds><NonLinear><StaticResource creativeType="image/png">https://cdn.example/o.png</StaticResource></NonLinear>
      <TrackingEvents><Tracking event="creativeView">https://in.example/nl-view</Tracking></TrackingEvents></NonLinearAds></Creative>
    <Creative><CompanionAds><Companion width="300" height="250"><StaticResource creativeType="image/png">https://cdn.example/c.png</StaticResource>
      <CompanionClickTracking>https://in.example/comp-click</CompanionClickTracking></Companion></CompanionAds></Creative>
  </Creatives></InLine></Ad></VAST>`);

const wrapper = (tag: string): Ad =>
  only(`<VAST version="4.2"><Ad id="${tag}"><Wrapper><AdSystem>${tag}</AdSystem><VASTAdTagURI>https://${tag}.example/next</VASTAdTagURI>
  <Impression>https://${tag}.example/imp</Impression>
  <Creatives>
    <Creative><Linear>
      <TrackingEvents><Tracking event="start">https://${tag}.example/start</Tracking></TrackingEvents>
      <VideoClicks><ClickThrough>https://${tag}.example/through</ClickThrough><ClickTracking>https://${tag}.example/click</ClickTracking><CustomClick>https://${tag}.example/custom</CustomClick></VideoClicks>
    </Linear></Creative>
    <Creative><NonLinearAds>
      <NonLinear><StaticResource creativeType="image/png">https://cdn.example/${tag}-1.png</StaticResource></NonLinear>
      <NonLinear><StaticResource creativeType="image/png">https://cdn.example/${tag}-2.png</StaticResource></NonLinear>
      <TrackingEvents><Tracking event="creativeView">https://${tag}.example/nl-view</Tracking></TrackingEvents>
    </NonLinearAds></Creative>
    <Creative><CompanionAds><Companion><CompanionClickTracking>https://${tag}.example/comp-click</CompanionClickTracking></Companion></CompanionAds></Creative>
  </Creatives></Wrapper></Ad></VAST>`);

describe('mergeWrappers', () => {
  const merged = mergeWrappers([wrapper('outer'), wrapper('inner')], ['https://outer.example/next', 'https://inner.example/next'], inline);
  const [linear, nonLinear, companion] = merged.creatives;

  it('returns the InLine untouched when there is no wrapper', () => {
    assert.equal(mergeWrappers([], [], inline), inline);
  });

  it('keeps the InLine identity and lists the wrapper URIs', () => {
    assert.equal(merged.id, 'in');
    assert.equal(merged.kind, 'inline');
    assert.deepEqual(merged.wrapperUris, ['https://outer.example/next', 'https://inner.example/next']);
    assert.deepEqual(merged.impressionUris, ['https://outer.example/imp', 'https://inner.example/imp', 'https://in.example/imp']);
  });

  it('adds linear tracking and clicks by type, outermost first', () => {
    const l = linear as LinearCreative;
    assert.deepEqual(
      l.tracking['start']?.map((t) => t.uri),
      ['https://outer.example/start', 'https://inner.example/start', 'https://in.example/start'],
    );
    assert.deepEqual(l.clickTrackingUris, ['https://outer.example/click', 'https://inner.example/click', 'https://in.example/click']);
    assert.deepEqual(l.customClickUris, ['https://outer.example/custom', 'https://inner.example/custom', 'https://in.example/custom']);
    assert.equal(l.clickThrough, 'https://inner.example/through', 'the InLine has none: the innermost wrapper gives it');
  });

  it('adds the NonLinearAds tracking of each wrapper once, however many NonLinear it has', () => {
    assert.deepEqual(
      nonLinear!.tracking['creativeView']?.map((t) => t.uri),
      ['https://outer.example/nl-view', 'https://inner.example/nl-view', 'https://in.example/nl-view'],
    );
  });

  it('adds companion click tracking to companions only', () => {
    assert.deepEqual(companion!.clickTrackingUris, ['https://outer.example/comp-click', 'https://inner.example/comp-click', 'https://in.example/comp-click']);
    assert.equal(linear!.clickTrackingUris.some((u) => u.includes('comp-click')), false);
  });

  it('does not change the ads it was given', () => {
    assert.deepEqual(inline.impressionUris, ['https://in.example/imp']);
    assert.deepEqual(
      inline.creatives[0]!.tracking['start']?.map((t) => t.uri),
      ['https://in.example/start'],
    );
  });
});
