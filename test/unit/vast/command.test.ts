import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { vastCommand } from '../../../src/commands/vast.ts';
import type { VastResult } from '../../../src/ads/vast/index.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/vast/inline-4.3-full.xml', import.meta.url));

async function run(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.out.push(c));
  stderr.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await vastCommand.run(args, { stdout, stderr, stdin: Readable.from([Buffer.from(stdin)]) });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

describe('quartile vast parse', () => {
  it('prints one JSON VastResult for a file and exits 0', async () => {
    const { code, stdout, stderr } = await run(['parse', FIXTURE]);
    assert.equal(code, 0);
    assert.equal(stderr, '');
    const result = JSON.parse(stdout) as VastResult;
    assert.equal(result.version, '4.3');
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.ads.map((a) => a.id),
      ['0012', 'pod-2', 'buffet-1'],
    );
    assert.deepEqual(Object.keys(result), ['version', 'ads', 'errors', 'errorUris']);
  });

  it('reads stdin with -', async () => {
    const { code, stdout } = await run(['parse', '-'], '<VAST version="3.0"><Error>https://e.example/</Error></VAST>');
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as VastResult;
    assert.deepEqual(
      result.errors.map((e) => e.code),
      [303],
    );
  });

  it('exits 0 with the IAB code in the JSON when the document is broken', async () => {
    const { code, stdout } = await run(['parse', '-'], '{ vast: null }');
    assert.equal(code, 0);
    assert.deepEqual(
      (JSON.parse(stdout) as VastResult).errors.map((e) => e.code),
      [100],
    );
  });

  it('refuses an input over 1 MiB after reading only the first MiB', async () => {
    const { code, stdout } = await run(['parse', '-'], `<VAST version="4.0">${' '.repeat(2 * 1024 * 1024)}</VAST>`);
    assert.equal(code, 0);
    assert.deepEqual(
      (JSON.parse(stdout) as VastResult).errors.map((e) => e.reason),
      ['VAST_TOO_LARGE'],
    );
  });

  it('exits 1 with a next step when the file cannot be read', async () => {
    const { code, stdout, stderr } = await run(['parse', '/nonexistent/vast.xml']);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.match(stderr, /cannot read \/nonexistent\/vast\.xml: no such file\. Check the path, or pass - to read the document from stdin\./);
  });

  it('exits 2 on bad usage, showing the usage', async () => {
    for (const args of [[], ['parse'], ['parse', 'a.xml', 'b.xml'], ['frobnicate']]) {
      const { code, stderr } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /Usage:/);
    }
  });
});

describe('quartile vast resolve', () => {
  it('refuses a loopback URL by default and says so in the JSON, exit 0', async () => {
    const { code, stdout } = await run(['resolve', 'http://127.0.0.1:9/vast.xml']);
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as VastResult;
    assert.deepEqual(
      result.errors.map((e) => [e.code, e.reason]),
      [[301, 'NET_ADDRESS_REFUSED']],
    );
  });

  it('exits 2 for a URL that is not http(s), pointing at parse', async () => {
    const { code, stderr } = await run(['resolve', 'file:///etc/passwd']);
    assert.equal(code, 2);
    assert.match(stderr, /quartile vast parse <file>/);
  });

  it('exits 2 for bad flags and bad numbers', async () => {
    for (const args of [
      ['resolve', 'https://ads.example/', '--wrapper-limit', 'five'],
      ['resolve', 'https://ads.example/', '--timeout-ms', '0'],
      ['resolve', 'https://ads.example/', '--no-such-flag'],
      ['resolve'],
    ]) {
      const { code, stderr } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, /quartile vast: /);
    }
  });

  it('prints its usage with --help', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /--allow-private-network/);
    assert.equal(vastCommand.name, 'vast');
  });
});
