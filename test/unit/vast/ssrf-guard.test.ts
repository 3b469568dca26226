import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkUrl, guardedLookup, isPublicAddress } from '../../../src/net/ssrf-guard.ts';
import { isQuartileError } from '../../../src/core/errors.ts';

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
