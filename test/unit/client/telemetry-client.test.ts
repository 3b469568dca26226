/**
 * The producer client's delivery rules, against a scripted HTTP endpoint on loopback:
 * what it retries (429, 503, network errors) and honours Retry-After for, what it
 * never retries (4xx), splitting on 413, bounded queueing, and order.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createTelemetryClient } from '../../../src/client/index.ts';
import type { TelemetryEvent } from '../../../src/client/types.ts';

type Script = (body: { events: TelemetryEvent[] }, res: ServerResponse) => void;

let server: Server;
let endpoint: string;
let script: Script[] = [];
const received: Array<{ events: TelemetryEvent[]; at: number; headers: IncomingMessage['headers'] }> = [];

function ok(body: { events: TelemetryEvent[] }, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requestId: 'r', accepted: body.events.length, rejected: [] }));
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString()) as { events: TelemetryEvent[] };
      received.push({ events: body.events, at: Date.now(), headers: req.headers });
      (script.shift() ?? ok)(body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  script = [];
  received.length = 0;
});

const event = (i: number, eventType: TelemetryEvent['eventType'] = 'impression'): TelemetryEvent => ({
  eventType,
  token: 't',
  playbackSessionId: 'pbs',
  adInstanceId: `ai-${i}`,
});

describe('telemetry client', () => {
  it('batches by size, gzips, sends the API key, and keeps order', async () => {
    const client = createTelemetryClient({ endpoint, apiKey: 'key-123', maxBatchEvents: 3, flushIntervalMs: 60_000 });
    const ids = Array.from({ length: 7 }, (_, i) => client.track(event(i)));
    await client.close();
    assert.deepEqual(received.map((r) => r.events.length), [3, 3, 1]);
    assert.deepEqual(received.flatMap((r) => r.events.map((e) => e.eventId)), ids);
    assert.equal(received[0]!.headers['content-encoding'], 'gzip');
    assert.equal(received[0]!.headers['x-quartile-key'], 'key-123');
    assert.equal(client.stats().accepted, 7);
  });

  it('retries 503 and 429 with the same event ids, waiting at least Retry-After', async () => {
    script = [
      (_b, res) => res.writeHead(503, { 'retry-after': '1' }).end('{"code":"COLLECTOR_TRANSPORT_UNAVAILABLE"}'),
      (_b, res) => res.writeHead(429, { 'retry-after': '1' }).end('{"code":"COLLECTOR_RATE_LIMITED"}'),
    ];
    const client = createTelemetryClient({ endpoint, retryBaseMs: 10, flushIntervalMs: 60_000 });
    client.track(event(1));
    await client.close();
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.events[0]!.eventId)).size, 1, 'a retry resends the same event id');
    assert.ok(received[1]!.at - received[0]!.at >= 950, 'waited for Retry-After');
    assert.ok(received[2]!.at - received[1]!.at >= 950, 'waited for Retry-After');
    assert.deepEqual({ accepted: client.stats().accepted, retries: client.stats().retries }, { accepted: 1, retries: 2 });
  });

  it('retries network errors', async () => {
    script = [(_b, res) => res.socket!.destroy()];
    const client = createTelemetryClient({ endpoint, retryBaseMs: 10, flushIntervalMs: 60_000 });
    client.track(event(1));
    await client.close();
    assert.equal(client.stats().accepted, 1);
    assert.equal(client.stats().retries, 1);
  });

  it('never retries a 4xx, and reports the dropped events', async () => {
    script = [(_b, res) => res.writeHead(400).end('{"code":"COLLECTOR_BAD_BODY"}')];
    const dropped: string[] = [];
    const client = createTelemetryClient({ endpoint, flushIntervalMs: 60_000, onDropped: (events, reason) => dropped.push(`${events.length}:${reason}`) });
    client.track(event(1));
    await client.close();
    assert.equal(received.length, 1);
    assert.deepEqual(dropped, ['1:client-error']);
  });

  it('halves a batch the collector finds too large (413)', async () => {
    script = [(_b, res) => res.writeHead(413).end('{"code":"COLLECTOR_TOO_MANY_EVENTS"}')];
    const client = createTelemetryClient({ endpoint, maxBatchEvents: 4, flushIntervalMs: 60_000 });
    for (let i = 0; i < 4; i++) client.track(event(i));
    await client.close();
    assert.deepEqual(received.map((r) => r.events.length), [4, 2, 2]);
    assert.equal(client.stats().accepted, 4);
  });

  it('hands per-event rejections to onRejected without retrying them', async () => {
    script = [(b, res) => res.writeHead(200).end(JSON.stringify({ accepted: 1, rejected: [{ index: 1, code: 'EVENT_BAD_ID', message: 'x' }] }))];
    const rejections: string[] = [];
    const client = createTelemetryClient({ endpoint, flushIntervalMs: 60_000, onRejected: (r) => rejections.push(...r.map((x) => `${x.event.adInstanceId}:${x.code}`)) });
    client.track(event(0));
    client.track(event(1));
    await client.close();
    assert.deepEqual(rejections, ['ai-1:EVENT_BAD_ID']);
    assert.equal(received.length, 1);
  });

  it('bounds its offline queue, dropping low-priority events first', async () => {
    script = [(_b, res) => res.writeHead(503, { 'retry-after': '0' }).end()];
    const dropped: string[] = [];
    const client = createTelemetryClient({
      endpoint,
      maxQueueEvents: 3,
      maxBatchEvents: 100,
      flushIntervalMs: 60_000,
      retryBaseMs: 5,
      onDropped: (events, reason) => dropped.push(...events.map((e) => `${e.eventType}:${reason}`)),
    });
    client.track(event(1, 'impression'));
    client.track(event(2, 'heartbeat'));
    client.track(event(3, 'complete'));
    client.track(event(4, 'click'));
    await client.close();
    assert.deepEqual(dropped, ['heartbeat:queue-full']);
    assert.deepEqual(received.at(-1)!.events.map((e) => e.eventType), ['impression', 'complete', 'click']);
  });

  it('gives up on a batch after its retry deadline', async () => {
    script = Array.from({ length: 50 }, () => (_b: unknown, res: ServerResponse) => res.writeHead(503).end());
    const dropped: string[] = [];
    const client = createTelemetryClient({ endpoint, retryBaseMs: 20, retryDeadlineMs: 200, flushIntervalMs: 60_000, onDropped: (e, reason) => dropped.push(reason) });
    client.track(event(1));
    await client.close();
    assert.deepEqual(dropped, ['retry-deadline']);
  });
});
