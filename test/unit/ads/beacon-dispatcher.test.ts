/**
 * The beacon dispatcher: one GET per beacon through the SSRF guard, the IAB
 * server-side device headers, and an outcome value the caller can act on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BeaconDispatcher, serverSideHeaders } from '../../../src/beacons/dispatcher.ts';

describe('beacon dispatcher', () => {
  let server: Server;
  let base = '';
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  before(async () => {
    server = createServer((request, response) => {
      seen.push({ path: request.url ?? '', headers: request.headers });
      const status = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('status') ?? '204');
      const delay = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('delay') ?? '0');
      const big = new URL(request.url ?? '/', 'http://x').searchParams.has('big');
      setTimeout(() => {
        if (status === 302) response.writeHead(302, { location: '/landed?status=200' });
        else response.writeHead(status);
        response.end(big ? Buffer.alloc(1024 * 1024, 0x47) : 'ignored body');
      }, delay).unref();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

  const dispatcher = new BeaconDispatcher({ timeoutMs: 300, allowPrivateNetwork: true, userAgent: 'Quartile-test/1.0' });

  const cases: Array<[string, string, 'delivered' | 'retry' | 'reject', number | null, string | null]> = [
    ['a 204', '/px?status=204', 'delivered', 204, null],
    ['a redirect to a 200', '/px?status=302', 'delivered', 200, null],
    ['a 500 (worth retrying)', '/px?status=503', 'retry', 503, 'NET_HTTP_STATUS'],
    ['a 429 (worth retrying)', '/px?status=429', 'retry', 429, 'NET_HTTP_STATUS'],
    ['a 404 (retrying cannot help)', '/px?status=404', 'reject', 404, 'NET_HTTP_STATUS'],
    ['a vendor slower than the timeout', '/px?delay=1000', 'retry', null, 'NET_TIMEOUT'],
    ['a 200 with a body far larger than a pixel (not read to its end)', '/px?status=200&big=1', 'delivered', 200, null],
    // The first hop is cut short and aborted while the second is sent: the abort must not reach it.
    ['a redirect with a body far larger than a pixel, to a 200', '/px?status=302&big=1', 'delivered', 200, null],
  ];
  for (const [what, path, outcome, status, reason] of cases) {
    it(`says what happened to ${what}`, async () => {
      const result = await dispatcher.fire(`${base}${path}`);
      assert.equal(result.outcome, outcome);
      assert.equal(result.status, status);
      assert.equal(result.reason, reason);
      assert.ok(result.latencyMs >= 0 && result.latencyMs < 2000);
    });
  }

  it('tells send\'s function once, with the caller\'s own value, for answers and refusals alike', async () => {
    const heard: Array<[string, number | null, string]> = [];
    await new Promise<void>((done) => {
      const answered = (outcome: { outcome: string; status: number | null }, which: string): void => {
        heard.push([outcome.outcome, outcome.status, which]);
        if (heard.length === 2) done();
      };
      dispatcher.send(`${base}/px?status=204`, {}, answered, 'first');
      dispatcher.send('file:///etc/passwd', {}, answered, 'second');
    });
    await new Promise((r) => setTimeout(r, 20)); // nothing more comes
    assert.deepEqual(heard.sort((a, b) => a[2].localeCompare(b[2])), [['delivered', 204, 'first'], ['reject', null, 'second']]);
  });

  it('refuses private addresses unless allowed, and bad URLs, without throwing', async () => {
    const guarded = new BeaconDispatcher();
    const refused = await guarded.fire(`${base}/px`);
    assert.deepEqual([refused.outcome, refused.reason], ['reject', 'NET_ADDRESS_REFUSED']);
    const invalid = await guarded.fire('not a url');
    assert.deepEqual([invalid.outcome, invalid.reason], ['reject', 'NET_URL_INVALID']);
    const scheme = await guarded.fire('file:///etc/passwd');
    assert.deepEqual([scheme.outcome, scheme.reason], ['reject', 'NET_SCHEME_REFUSED']);
  });

  it('sends the device in the IAB server-side headers and names itself in User-Agent', async () => {
    seen.length = 0;
    await dispatcher.fire(`${base}/px?status=204&who=device`, {
      device: { ip: '203.0.113.9', userAgent: 'Roku/DVP-12.0 (12.0.0.4182)', referer: 'https://app.example/live', acceptLanguage: 'fr-FR,fr;q=0.9' },
    });
    const headers = seen.at(-1)!.headers;
    assert.equal(headers['user-agent'], 'Quartile-test/1.0');
    assert.equal(headers['x-device-ip'], '203.0.113.9');
    assert.equal(headers['x-device-user-agent'], 'Roku/DVP-12.0 (12.0.0.4182)');
    assert.equal(headers['x-device-referer'], 'https://app.example/live');
    assert.equal(headers['accept-language'], 'fr-FR,fr;q=0.9');
  });

  it('keeps no more connections to an origin than it is told, however many beacons wait', async () => {
    const sockets = new Set<unknown>();
    const counting = createServer((request, response) => {
      sockets.add(request.socket);
      setTimeout(() => response.end(), 5).unref();
    });
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    const port = (counting.address() as AddressInfo).port;
    const hosts: string[] = [];
    const bounded = new BeaconDispatcher({ allowPrivateNetwork: true, connectionsPerOrigin: (host) => (hosts.push(host), 3) });
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => bounded.fire(`http://127.0.0.1:${port}/px?i=${i}`)));
      assert.deepEqual(new Set(results.map((r) => r.outcome)), new Set(['delivered']));
      assert.ok(sockets.size >= 1 && sockets.size <= 3, `${sockets.size} connections`);
      assert.deepEqual(hosts, ['127.0.0.1']); // asked once, for the origin's host
    } finally {
      await bounded.close();
      counting.closeAllConnections();
      await new Promise<void>((r) => counting.close(() => r()));
    }
  });

  it('never lets a device value split a header', () => {
    const headers = serverSideHeaders({ ip: null, userAgent: 'Evil\r\nX-Injected: 1', referer: '   ' }, 'Q');
    assert.deepEqual(headers, { 'user-agent': 'Q', 'x-device-user-agent': 'EvilX-Injected: 1' });
  });
});
