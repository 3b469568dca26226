import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseVast } from '../../../src/ads/vast/index.ts';

const INLINE = (title: string): string =>
  `<VAST version="4.2"><Ad id="a"><InLine><AdSystem>s</AdSystem><AdTitle>${title}</AdTitle><Creatives><Creative><Linear><Duration>00:00:05</Duration></Linear></Creative></Creatives></InLine></Ad></VAST>`;

function codes(xml: string | Uint8Array): [number, string][] {
  return parseVast(xml).errors.map((e) => [e.code, e.reason]);
}

describe('parseVast safety: DOCTYPE and entities', () => {
  it('refuses a billion-laughs document with 100 without expanding anything', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
${INLINE('&lol3;')}`;
    const r = parseVast(lol);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.reason]),
      [[100, 'VAST_DOCTYPE_REFUSED']],
    );
    assert.deepEqual(r.ads, []);
  });

  it('refuses an external entity (XXE) with 100 and reads no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quartile-xxe-'));
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'TOP-SECRET-CONTENT');
    const xxe = `<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file://${secret}">]>${INLINE('&x;')}`;
    const r = parseVast(xxe);
    assert.deepEqual(
      r.errors.map((e) => e.code),
      [100],
    );
    assert.ok(!JSON.stringify(r).includes('TOP-SECRET-CONTENT'));
  });

  it('refuses a DOCTYPE met after the root element too, and lower-case spellings', () => {
    assert.deepEqual(codes(`<VAST version="4.2"><!DOCTYPE x><Ad/></VAST>`), [[100, 'VAST_DOCTYPE_REFUSED']]);
    assert.deepEqual(codes(`<!doctype vast>${INLINE('t')}`), [[100, 'VAST_DOCTYPE_REFUSED']]);
  });

  it('accepts DOCTYPE-looking text inside CDATA and comments', () => {
    assert.deepEqual(codes(`<!-- <!DOCTYPE x> -->${INLINE('<![CDATA[<!DOCTYPE html>]]>')}`), []);
    assert.equal(parseVast(INLINE('<![CDATA[<!DOCTYPE html>]]>')).ads[0]!.adTitle, '<!DOCTYPE html>');
  });

  it('decodes only the predefined entities and character references', () => {
    const r = parseVast(INLINE('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233; &#xE9;'));
    assert.equal(r.ads[0]!.adTitle, `a & b <c> "d" 'e' \u00e9 \u00e9`);
  });
});

describe('parseVast safety: size limit', () => {
  const padded = (bytes: number): string => {
    const base = INLINE('x');
    return base.replace('<AdTitle>x', `<AdTitle>${'x'.repeat(bytes - base.length + 1)}`);
  };

  it('accepts a document of exactly 1 MiB and refuses one a byte larger', () => {
    assert.deepEqual(codes(padded(1024 * 1024)), []);
    assert.deepEqual(codes(padded(1024 * 1024 + 1)), [[900, 'VAST_TOO_LARGE']]);
  });

  it('counts bytes, not characters, for text', () => {
    const base = INLINE('');
    const wide = base.replace('<AdTitle>', `<AdTitle>${'\u00e9'.repeat(600)}`); // 2 bytes each in UTF-8
    assert.deepEqual(
      parseVast(wide, { maxBytes: base.length + 1000 }).errors.map((e) => e.code),
      [900],
    );
    assert.deepEqual(parseVast(wide, { maxBytes: base.length + 1200 }).errors, []);
  });

  it('refuses oversized bytes before decoding them', () => {
    assert.deepEqual(
      parseVast(Buffer.alloc(2048, 0x20), { maxBytes: 1024 }).errors.map((e) => e.reason),
      ['VAST_TOO_LARGE'],
    );
  });
});

describe('parseVast safety: malformed input', () => {
  for (const [label, xml] of [
    ['not XML at all', '{ vast: null }'],
    ['an empty string', ''],
    ['a truncated document', INLINE('t').slice(0, 80)],
    ['mismatched tags', '<VAST version="4.0"><Ad><InLine></Ad></InLine></VAST>'],
    ['an unquoted attribute', '<VAST version=4.0></VAST>'],
    ['a bare ampersand', '<VAST version="4.0"><Error>https://e.example/?a=1&b=2</Error></VAST>'],
    ['two root elements', '<VAST version="4.0"/><VAST version="4.0"/>'],
  ] as const) {
    it(`reports ${label} as 100`, () => {
      assert.deepEqual(codes(xml), [[100, 'VAST_XML_INVALID']]);
    });
  }

  it('reports a well-formed document that is not VAST as 101', () => {
    assert.deepEqual(codes('<html><body>Not an ad</body></html>'), [[101, 'VAST_SCHEMA_INVALID']]);
  });

  it('refuses VAST 1.0 and versions it does not know with 102', () => {
    assert.deepEqual(codes('<VideoAdServingTemplate><Ad id="x"/></VideoAdServingTemplate>'), [[102, 'VAST_VERSION_UNSUPPORTED']]);
    assert.deepEqual(codes('<VAST version="1.0"><Ad/></VAST>'), [[102, 'VAST_VERSION_UNSUPPORTED']]);
    assert.deepEqual(codes('<VAST version="5.0"><Ad/></VAST>'), [[102, 'VAST_VERSION_UNSUPPORTED']]);
  });

  it('refuses absurdly deep nesting with 100 instead of recursing', () => {
    const deep = `<VAST version="4.0"><Ad><InLine><Extensions>${'<x>'.repeat(200)}${'</x>'.repeat(200)}</Extensions></InLine></Ad></VAST>`;
    assert.deepEqual(codes(deep), [[100, 'VAST_XML_INVALID']]);
  });
});
