import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkUrl, guardedLookup, isPublicAddress } from '../../../src/net/ssrf-guard.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { statusTarget } from '../../../src/net/status-get.ts';

describe('isPublicAddress', () => {
  for (const [address, expected] of [
    ['8.8.8.8', true],
    ['172.32.0.1', true],
    ['2606:4700:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::8.8.8.8', true],
    ['127.0.0.1', false],
    ['127.255.255.254', false],
    ['10.20.30.40', false],
    ['172.31.255.255', false],
    ['192.168.0.10', false],
    ['169.254.169.254', false],
    ['100.100.100.200', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00:ec2::254', false],
    ['ff02::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:a9fe:a9fe', false],
    ['64:ff9b::10.0.0.1', false],
    ['2002:c0a8:0101::1', false],
    ['not an address', false],
  ] as const) {
    it(`${address} → ${expected ? 'public' : 'refused'}`, () => {
      assert.equal(isPublicAddress(address), expected);
    });
  }
});

describe('checkUrl', () => {
  const policy = { allowPrivateNetwork: false };

  function codeOf(url: string, allowPrivateNetwork = false): string {
    try {
      checkUrl(url, { allowPrivateNetwork });
      return 'ok';
    } catch (error) {
      assert.ok(isQuartileError(error));
      return error.code;
    }
  }

  it('accepts http and https URLs with public or named hosts', () => {
    assert.equal(checkUrl('https://ads.example/vast.xml', policy).hostname, 'ads.example');
    assert.equal(codeOf('http://8.8.8.8/vast'), 'ok');
  });

  it('refuses other schemes, relative URLs and private IP literals', () => {
    assert.equal(codeOf('file:///etc/passwd'), 'NET_SCHEME_REFUSED');
    assert.equal(codeOf('/relative.xml'), 'NET_URL_INVALID');
    assert.equal(codeOf('http://127.0.0.1/'), 'NET_ADDRESS_REFUSED');
    assert.equal(codeOf('http://[::1]:8080/'), 'NET_ADDRESS_REFUSED');
    assert.equal(codeOf('http://0x7f.1/'), 'NET_ADDRESS_REFUSED', 'hex IPv4 is normalized by the URL parser');
    assert.equal(codeOf('http://127.0.0.1/', true), 'ok');
  });
});

describe('statusTarget (what a status GET sends)', () => {
  const parsed = (url: string) => {
    const u = new URL(url);
    return { href: u.href, origin: u.origin, path: `${u.pathname}${u.search}` };
  };
  for (const url of [
    'http://127.0.0.2:8080/imp?ifa=6f1c-2a&ua=Roku%2FDVP-12.0&cb=12345678&ss=1&gdpr=-1',
    'https://Vendor.Example/p?a=1', // the parser lower-cases the host
    'http://vendor.example:80/p', // and drops a default port
    'http://vendor.example/a b?c="d"', // and encodes spaces and quotes
    'http://vendor.example/a/../b/%2e/c?x=1', // and resolves dot segments
    'http://vendor.example/p?', // and drops an empty query
    'http://vendor.example/p?x=%zz&y=[MACRO]#frag',
    'http://user:pw@vendor.example/p?x=1',
    'http://vendor.example?x=1',
  ]) {
    it(`sends ${url} as the URL parser would`, () => {
      for (let i = 0; i < 2; i++) { // the second time, from what was learnt of its origin
        const t = statusTarget(url, { allowPrivateNetwork: true });
        assert.deepEqual({ href: t.href, origin: t.origin, path: t.path }, parsed(url));
      }
    });
  }

  it('refuses what checkUrl refuses, naming the whole URL', () => {
    for (const url of ['http://10.0.0.1/p?x=1', 'ftp://vendor.example/p', 'http://169.254.169.254/latest/meta-data']) {
      for (let i = 0; i < 2; i++) {
        assert.throws(() => statusTarget(url, { allowPrivateNetwork: false }), (e: unknown) => isQuartileError(e) && e.message.includes(new URL(url).host));
      }
    }
  });
});

describe('guardedLookup', () => {
  function lookup(host: string, allowPrivateNetwork: boolean, all: boolean): Promise<{ error: Error | null; address: unknown }> {
    return new Promise((resolve) => {
      guardedLookup({ allowPrivateNetwork })(host, { all }, (error: Error | null, address: unknown) => resolve({ error, address }));
    });
  }

  it('refuses a name that resolves to loopback', async () => {
    const { error } = await lookup('localhost', false, false);
    assert.ok(isQuartileError(error, 'NET_ADDRESS_REFUSED'));
  });

  it('answers in both lookup shapes when allowed', async () => {
    const single = await lookup('localhost', true, false);
    assert.equal(single.error, null);
    assert.ok(typeof single.address === 'string' && !isPublicAddress(single.address));
    const all = await lookup('localhost', true, true);
    assert.ok(Array.isArray(all.address) && all.address.length > 0);
  });
});
