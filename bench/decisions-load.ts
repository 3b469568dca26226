/**
 * The second process of `npm run bench -- decisions`: it runs the local VAST ad
 * server and drives the Ads Manager with undici, so neither competes with the engine
 * for its core. Driven by the parent over IPC:
 *
 *   → {cmd: 'herd' | 'vod', url, seconds, concurrency, bodies}   ← {latenciesMs, count, errors, tokens}
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { inlineAd, vast, wrapperAd } from '../test/fixtures/ads/vast.ts';

/** A phase the parent asks for. */
export interface LoadCommand {
  readonly cmd: 'herd' | 'vod';
  readonly url: string;
  readonly seconds: number;
  readonly concurrency: number;
  readonly bodies: readonly string[];
  /** Parse every Nth answer and collect its tokens. */
  readonly sampleEvery: number;
}

/** What a phase measured. */
export interface LoadResult {
  readonly count: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
  readonly tokens: string[];
  readonly statuses: Record<string, number>;
}

let host = '';
const server = createServer((request, response) => {
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  // A wrapper (one hop) to a three-ad pod plus a buffet ad: a typical ad server answer.
  const body =
    path === '/tag'
      ? vast(wrapperAd({ id: 'w1', next: `${host}/inline`, host }))
      : vast(
          inlineAd({ id: 'ad-1', sequence: 1, host, campaignId: 'cmp-1', lineItemId: 'li-1', advertiserId: 'adv-1' }),
          inlineAd({ id: 'ad-2', sequence: 2, host, campaignId: 'cmp-2', lineItemId: 'li-2', advertiserId: 'adv-2', durationSec: 30 }),
          inlineAd({ id: 'ad-3', sequence: 3, host, campaignId: 'cmp-3', lineItemId: 'li-3', advertiserId: 'adv-3' }),
          inlineAd({ id: 'ad-b', host, campaignId: 'cmp-b', lineItemId: 'li-b', advertiserId: 'adv-b' }),
        );
  response.writeHead(path === '/tag' || path === '/inline' ? 200 : 204, { 'content-type': 'application/xml' });
  response.end(path === '/tag' || path === '/inline' ? body : '');
});
server.listen(0, '127.0.0.1', () => {
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.send!({ ready: true, tagUrl: `${host}/tag` });
});

async function run(command: LoadCommand): Promise<LoadResult> {
  const origin = new URL(command.url).origin;
  const path = new URL(command.url).pathname;
  const pool = new Pool(origin, { connections: command.concurrency, pipelining: 1 });
  const latenciesMs: number[] = [];
  const tokens: string[] = [];
  const statuses: Record<string, number> = {};
  let count = 0;
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + command.seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const body = command.bodies[next++ % command.bodies.length]!;
      const sent = performance.now();
      try {
        const response = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json' } });
        const text = await response.body.text();
        latenciesMs.push(performance.now() - sent);
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        if (response.statusCode !== 200) errors++;
        else if (count % command.sampleEvery === 0) for (const ad of (JSON.parse(text) as { ads: Array<{ token: string }> }).ads) tokens.push(ad.token);
        count++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  await pool.close();
  return { count, errors, elapsedMs, latenciesMs, tokens, statuses };
}

process.on('message', (message: LoadCommand | { cmd: 'exit' }) => {
  if (message.cmd === 'exit') {
    server.close();
    process.exit(0);
  }
  void run(message).then((result) => process.send!(result));
});
