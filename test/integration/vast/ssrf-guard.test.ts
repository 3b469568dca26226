import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveVast, resolveVastDocument } from '../../../src/ads/vast/index.ts';
import { httpGet } from '../../../src/net/http-get.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { inlineXml, startVastServer, wrapperXml, type VastServer } from './vast-server.ts';

const getOptions = { timeoutMs: 1000, maxBytes: 1 << 20, maxRedirects: 5, allowPrivateNetwork: false } as const;

async function refusal(url: string, allowPrivateNetwork = false): Promise<string> {
  try {
    await httpGet(url, { ...getOptions, allowPrivateNetwork });
  } catch (error) {
    assert.ok(isQuartileError(error), `a QuartileError, not ${String(error)}`);
    return error.code;
  }
  return 'fetched';
}

describe('SSRF guard (default: private networks refused)', () => {
  let server: VastServer;
  let port: string;
  before(async () => {
    server = await startVastServer({ '/vast.xml': { body: inlineXml() } });
    port = new URL(server.url('/')).port;
  });
  after(() => server.close());

  it('refuses the loopback server by IP, by name and by IPv4-mapped IPv6, and never connects', async () => {
    const before = server.hits.length;
    assert.equal(await refusal(`http://127.0.0.1:${port}/vast.xml`), 'NET_ADDRESS_REFUSED');
    // localhost is a name: it is refused on what DNS answers (127.0.0.1 or ::1), at connect time.
    assert.equal(await refusal(`http://localhost:${port}/vast.xml`), 'NET_ADDRESS_REFUSED');
    assert.equal(await refusal(`http://[::ffff:127.0.0.1]:${port}/vast.xml`), 'NET_ADDRESS_REFUSED');
    // 2130706433 is 127.0.0.1 written as one number; the URL parser normalizes it.
    assert.equal(await refusal(`http://2130706433:${port}/vast.xml`), 'NET_ADDRESS_REFUSED');
    assert.equal(server.hits.length, before, 'no request reached the server');
  });

  for (const host of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '[::1]', '[fe80::1]', '[fd00:ec2::254]']) {
    it(`refuses ${host}`, async () => {
      assert.equal(await refusal(`http://${host}/latest/meta-data/`), 'NET_ADDRESS_REFUSED');
    });
  }

  for (const url of ['file:///etc/passwd', 'ftp://ads.example/vast.xml', 'gopher://ads.example/', 'data:text/xml,<VAST/>', 'javascript:alert(1)']) {
    it(`refuses the scheme of ${url}`, async () => {
      assert.equal(await refusal(url), 'NET_SCHEME_REFUSED');
    });
  }

  it('reports a refused wrapper as 301, to the wrapper Error URIs', async () => {
    const r = await resolveVastDocument(wrapperXml('http://169.254.169.254/latest/meta-data/', { tag: 'evil' }), null);
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.reason, e.errorUris]),
      [[301, 'NET_ADDRESS_REFUSED', ['https://evil.example/error?code=[ERRORCODE]']]],
    );
    const scheme = await resolveVastDocument(wrapperXml('file:///etc/passwd'), null);
    assert.deepEqual(
      scheme.errors.map((e) => [e.code, e.reason]),
      [[301, 'NET_SCHEME_REFUSED']],
    );
  });

  it('checks every redirect hop: a redirect to file: is refused even with private networks allowed', async () => {
    const redirecting = await startVastServer({ '/r': { status: 302, headers: { location: 'file:///etc/passwd' } } });
    try {
      assert.equal(await refusal(redirecting.url('/r'), true), 'NET_SCHEME_REFUSED');
      assert.deepEqual(redirecting.hits, ['/r']);
    } finally {
      await redirecting.close();
    }
  });

  it('fetches private addresses once allowPrivateNetwork is set', async () => {
    const r = await resolveVast(server.url('/vast.xml'), { allowPrivateNetwork: true });
    assert.deepEqual(r.errors, []);
    assert.equal(r.ads.length, 1);
    assert.equal(await refusal(`http://localhost:${port}/vast.xml`, true), 'fetched');
  });
});
