import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatTimecode, offsetToMs, parseOffset, parseTimecode } from '../../../src/ads/vast/index.ts';

describe('parseTimecode', () => {
  for (const [input, expected] of [
    ['00:00:16', 16_000],
    ['00:01:30.123', 90_123],
    ['00:00:30.5', 30_500],
    ['09:15:23', 33_323_000],
    ['100:00:00', 360_000_000],
    [' 00:00:05.000 ', 5_000],
    ['30', 30_000],
    ['12.25', 12_250],
    ['00:61:00', null],
    ['00:00:60', null],
    ['1:2', null],
    ['abc', null],
    ['', null],
    [null, null],
  ] as const) {
    it(`reads ${JSON.stringify(input)} as ${expected}`, () => {
      assert.equal(parseTimecode(input), expected);
    });
  }
});

describe('offsets', () => {
  it('reads times and percentages', () => {
    assert.deepEqual(parseOffset('00:00:05.250'), { kind: 'time', ms: 5250 });
    assert.deepEqual(parseOffset('25%'), { kind: 'percent', percent: 25 });
    assert.deepEqual(parseOffset('12.5%'), { kind: 'percent', percent: 12.5 });
    assert.equal(parseOffset('150%'), null);
    assert.equal(parseOffset('soon'), null);
  });

  it('turns a skip offset into milliseconds, percentages against the duration', () => {
    assert.equal(offsetToMs('00:00:05', 30_000), 5000);
    assert.equal(offsetToMs('25%', 30_000), 7500);
    assert.equal(offsetToMs('25%', null), null);
    assert.equal(offsetToMs(null, 30_000), null);
  });
});

describe('formatTimecode', () => {
  it('writes HH:MM:SS.mmm', () => {
    assert.equal(formatTimecode(0), '00:00:00.000');
    assert.equal(formatTimecode(11_355), '00:00:11.355');
    assert.equal(formatTimecode(3_600_000 * 25 + 1), '25:00:00.001');
    assert.equal(formatTimecode(-5), '00:00:00.000');
  });
});
