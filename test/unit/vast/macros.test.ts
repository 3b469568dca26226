import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeRfc3986, expandMacros, IAB_MACROS, isoTimestamp } from '../../../src/ads/vast/index.ts';
import { MacroTemplate } from '../../../src/ads/vast/macros.ts';

// The IAB list sits beside the repository (../shared), as CI has it.
const MACROS_DATA = fileURLToPath(new URL('../../../../shared/reference/iab-vast/macros-data.json', import.meta.url));

describe('IAB macro list', () => {
  it('names exactly the macros of macros-data.json, with the kind of each', () => {
    const data = JSON.parse(readFileSync(MACROS_DATA, 'utf8')) as { macros: { name: string; type: string }[] };
    const expected = Object.fromEntries(
      data.macros.map((m) => [m.name, m.type.startsWith('Array') ? 'list' : m.type === 'timecode' ? 'timecode' : m.type === 'integer' ? 'integer' : 'string']),
    );
    assert.deepEqual({ ...IAB_MACROS }, expected);
  });

  it('includes the macros the issue names', () => {
    for (const name of ['GDPRCONSENT', 'GPPSTRING', 'GPPSECTIONID', 'LIMITADTRACKING', 'REGULATIONS', 'IFA', 'DEVICEUA', 'SERVERSIDE', 'CACHEBUSTING', 'TIMESTAMP', 'ADPLAYHEAD', 'ERRORCODE', 'REASON']) {
      assert.ok(Object.hasOwn(IAB_MACROS, name), name);
    }
  });
});

describe('expandMacros', () => {
  it('fills in given values, percent-encoded per RFC 3986', () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/51.0';
    const out = expandMacros('https://t.example/?ua=[DEVICEUA]&ifa=[IFA]&code=[ERRORCODE]', {
      DEVICEUA: ua,
      IFA: '123e4567-e89b-12d3-a456-426655440000',
      ERRORCODE: 303,
    });
    assert.equal(out, 'https://t.example/?ua=Mozilla%2F5.0%20%28X11%3B%20Linux%20x86_64%29%20Chrome%2F51.0&ifa=123e4567-e89b-12d3-a456-426655440000&code=303');
    assert.equal(decodeURIComponent(new URL(out).searchParams.get('ua') ?? ''), ua);
  });

  it('encodes the characters encodeURIComponent leaves alone', () => {
    assert.equal(encodeRfc3986("a!b'c(d)e*f~g-h.i_j"), 'a%21b%27c%28d%29e%2Af~g-h.i_j');
  });

  it('writes consent and regulation signals as the pixels expect', () => {
    const out = expandMacros('https://t.example/?gdpr=[GDPRCONSENT]&gpp=[GPPSTRING]&sid=[GPPSECTIONID]&reg=[REGULATIONS]&lat=[LIMITADTRACKING]&ss=[SERVERSIDE]', {
      GDPRCONSENT: 'BOLqFHuOLqFHuAABAENAAAAAAAAoAAA',
      GPPSTRING: 'DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA',
      GPPSECTIONID: [2, 7],
      REGULATIONS: ['gdpr', 'coppa'],
      LIMITADTRACKING: true,
      SERVERSIDE: 1,
    });
    assert.equal(
      out,
      'https://t.example/?gdpr=BOLqFHuOLqFHuAABAENAAAAAAAAoAAA&gpp=DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA&sid=2,7&reg=gdpr,coppa&lat=1&ss=1',
    );
  });

  it('encodes each list item but keeps the separating commas, as the IAB examples do', () => {
    assert.equal(expandMacros('[MEDIAMIME]', { MEDIAMIME: ['video/mp4', 'application/x-mpegURL'] }), 'video%2Fmp4,application%2Fx-mpegURL');
  });

  it('writes timecode macros from milliseconds as HH:MM:SS.mmm', () => {
    assert.equal(expandMacros('[ADPLAYHEAD]', { ADPLAYHEAD: 11_355 }), '00%3A00%3A11.355');
    assert.equal(expandMacros('[CONTENTPLAYHEAD]', { CONTENTPLAYHEAD: 3_600_000 + 5 * 60_000 + 21_123 }), '01%3A05%3A21.123');
    assert.equal(expandMacros('[ADPLAYHEAD]', { ADPLAYHEAD: '00:00:02.000' }), '00%3A00%3A02.000');
  });

  it('writes -1 for an IAB macro with no value, and -2 for one deliberately withheld', () => {
    assert.equal(expandMacros('https://t.example/?ifa=[IFA]&ua=[DEVICEUA]', {}), 'https://t.example/?ifa=-1&ua=-1');
    assert.equal(expandMacros('[IFA]', { IFA: undefined }), '-1');
    assert.equal(expandMacros('[IFA]', { IFA: null }), '-2');
    assert.equal(expandMacros('[ADPLAYHEAD]', { ADPLAYHEAD: Number.NaN }), '-1');
  });

  it('leaves unknown macros and lower-case brackets as they are', () => {
    assert.equal(expandMacros('https://t.example/[random]/[RANDOM]/[VENDOR_ID]/[]', {}), 'https://t.example/[random]/[RANDOM]/[VENDOR_ID]/[]');
  });

  it('expands a custom macro when the caller gives its value', () => {
    assert.equal(expandMacros('https://t.example/?v=[VENDOR_ID]', { VENDOR_ID: 'a b' }), 'https://t.example/?v=a%20b');
  });

  it('generates an 8-digit [CACHEBUSTING] for each expansion, unless one is given', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const value = expandMacros('[CACHEBUSTING]');
      assert.match(value, /^[1-9]\d{7}$/);
      seen.add(value);
    }
    assert.ok(seen.size > 40, 'values vary');
    assert.equal(expandMacros('[CACHEBUSTING]', { CACHEBUSTING: 12345678 }), '12345678');
  });

  it('writes [TIMESTAMP] as ISO 8601 with milliseconds and a zone offset', () => {
    const at = new Date(Date.UTC(2016, 0, 17, 13, 15, 7, 127));
    assert.equal(expandMacros('[TIMESTAMP]', {}, { now: () => at, utcOffsetMinutes: -300 }), '2016-01-17T08%3A15%3A07.127-05%3A00');
    assert.equal(isoTimestamp(at, 0), '2016-01-17T13:15:07.127+00:00');
    assert.equal(isoTimestamp(at, 330), '2016-01-17T18:45:07.127+05:30');
    assert.match(expandMacros('[TIMESTAMP]'), /^\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}\.\d{3}(%2B|-)\d{2}%3A\d{2}$/);
  });

  it('returns a template without macros unchanged', () => {
    const uri = 'https://t.example/pixel?a=1';
    assert.equal(expandMacros(uri, { ERRORCODE: 100 }), uri);
  });

  it('expands a frozen layer (whose texts it keeps) exactly as a plain one, in every template and under every layer above it', () => {
    const values = { DEVICEUA: 'Roku/DVP 12 (x)', ADPLAYHEAD: 5250, REGULATIONS: ['gdpr', 'us ca'], LIMITADTRACKING: false, ERRORCODE: null };
    const frozen = Object.freeze({ ...values });
    const templates = ['u=[DEVICEUA]&p=[ADPLAYHEAD]&r=[REGULATIONS]', 'l=[LIMITADTRACKING]&e=[ERRORCODE]&u=[DEVICEUA]&g=[GDPRCONSENT]', '[ADPLAYHEAD]/[ADPLAYHEAD]'];
    for (let round = 0; round < 2; round++) {
      for (const t of templates) {
        const template = new MacroTemplate(t);
        assert.equal(template.expand([{ IFA: 'a' }, frozen]), template.expand([{ IFA: 'a' }, values]), t);
        assert.equal(template.expand([{ DEVICEUA: 'own' }, frozen]), template.expand([{ DEVICEUA: 'own' }, values]), `${t}, a layer above wins`);
      }
    }
    assert.equal(new MacroTemplate('u=[DEVICEUA]').expand([frozen]), 'u=Roku%2FDVP%2012%20%28x%29');
  });
});
