import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { vastCommand } from '../../../src/commands/vast.ts';
import type { VastResult } from '../../../src/ads/vast/index.ts';
import { inlineXml, startVastServer, wrapperXml, type VastServer } from './vast-server.ts';

async function resolveCli(args: string[]): Promise<{ code: number; result: VastResult }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const code = await vastCommand.run(['resolve', ...args], { stdout, stderr: new PassThrough(), stdin: Readable.from([]) });
  return { code, result: JSON.parse(Buffer.concat(chunks).toString()) as VastResult };
}

describe('quartile vast resolve against a local ad server', () => {
  let server: VastServer;
  before(async () => {
    server = await startVastServer({
      '/wrapper.xml': { body: wrapperXml('/inline.xml') },
      '/inline.xml': { body: inlineXml() },
      '/err': { status: 200 },
    });
  });
  after(() => server.close());

  it('follows the chain with --allow-private-network', async () => {
    const { code, result } = await resolveCli([server.url('/wrapper.xml'), '--allow-private-network']);
    assert.equal(code, 0);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.ads[0]!.wrapperUris, [server.url('/inline.xml')]);
  });

  it('honours --wrapper-limit', async () => {
    const { code, result } = await resolveCli([server.url('/wrapper.xml'), '--allow-private-network', '--wrapper-limit', '0']);
    assert.equal(code, 0);
    assert.deepEqual(
      result.errors.map((e) => e.code),
      [302],
    );
  });

  it('honours --timeout-ms and --fire-errors', async () => {
    const slow = await startVastServer({
      '/w.xml': () => ({ body: wrapperXml('/slow.xml').replace('https://w.example/error?code=[ERRORCODE]', server.url('/err?code=[ERRORCODE]')) }),
      '/slow.xml': { body: inlineXml(), delayMs: 1000 },
    });
    try {
      const { result } = await resolveCli([slow.url('/w.xml'), '--allow-private-network', '--timeout-ms', '100', '--fire-errors']);
      assert.deepEqual(
        result.errors.map((e) => [e.code, e.reason]),
        [[301, 'NET_TIMEOUT']],
      );
      assert.deepEqual(result.firedErrorUris, [{ uri: server.url('/err?code=301'), status: 200 }]);
      assert.ok(server.hits.includes('/err?code=301'));
    } finally {
      await slow.close();
    }
  });
});
