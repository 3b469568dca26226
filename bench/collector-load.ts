/**
 * The load generator of `npm run bench -- collector`, run as a child process so that
 * building and sending requests does not share the engine's event loop:
 *
 *   node --import tsx bench/collector-load.ts
 *
 * It reads one JSON command per stdin line and answers each with one JSON line on
 * stdout. Commands:
 *
 *   {"cmd":"run","url":"http://127.0.0.1:PORT","concurrency":16,"durationMs":3000,"maxRequests":5000}
 *      Closed loop: POSTs 100-event batches to URL/v1/events, `concurrency` in flight
 *      over a keep-alive undici Pool (each sends its next request when its answer
 *      arrived), until `durationMs` passed or `maxRequests` were sent, whichever comes
 *      first. Measures capacity. Answers {requests, statuses, acceptedEvents,
 *      rejectedEvents, elapsedMs, latenciesMs}.
 *   {"cmd":"run", ..., "requestsPerSec":300}
 *      Open loop (paced): request i is due at start + i/requestsPerSec whatever the
 *      answers before it, with at most `concurrency` in flight. Latency counts from
 *      the due time, so a collector that falls behind is charged for the wait (no
 *      coordinated omission). Measures latency at a given rate.
 *   {"cmd":"exit"}
 *
 * The bodies are built once at start-up (`--bodies` of them, default 200, 20,000
 * distinct events) and cycled, so building them costs the measurement nothing; an
 * event id therefore repeats every 20,000 events, which the collector does not mind
 * (the pipeline deduplicates, downstream).
 *
 * Loopback only, and bounded: each run by count and time, the whole process by
 * MAX_LIFETIME_MS; it also exits when stdin closes (the bench process went away).
 */
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { buildBody } from './collector-events.ts';

/** Startup settings, from the command line. */
interface Settings {
  /** Distinct request bodies to cycle through (each holds `eventsPerRequest` events). */
  readonly bodies: number;
  readonly eventsPerRequest: number;
  readonly gzip: boolean;
}

/** One `run` command. */
export interface RunCommand {
  readonly cmd: 'run';
  readonly url: string;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  /** Paced mode: requests per second on a fixed schedule. Absent = closed loop. */
  readonly requestsPerSec?: number;
}

/** The answer to a `run` command. */
export interface RunResult {
  readonly requests: number;
  /** Requests per HTTP status ("error" for a network error). */
  readonly statuses: Record<string, number>;
  /** Events the collector answered as accepted (200 answers only). */
  readonly acceptedEvents: number;
  /** Events it refused one by one in 200 answers (shed or invalid). */
  readonly rejectedEvents: number;
  readonly elapsedMs: number;
  /** Latency of every 200 answer, from send (or due time, paced) to the end of its body; fast 503s would flatter it. */
  readonly latenciesMs: number[];
}

const MAX_LIFETIME_MS = 15 * 60_000;
const MAX_CONCURRENCY = 256;
const MAX_DURATION_MS = 120_000;

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? Number.NaN : Number(process.argv[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

async function run(command: RunCommand, bodies: readonly Buffer[], headers: Record<string, string>): Promise<RunResult> {
  const url = new URL(command.url);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.hostname !== '[::1]') {
    throw new Error(`the load generator only talks to loopback, not ${url.hostname}`);
  }
  const concurrency = Math.min(Math.max(1, Math.floor(command.concurrency)), MAX_CONCURRENCY);
  const durationMs = Math.min(Math.max(1, command.durationMs), MAX_DURATION_MS);
  const maxRequests = Math.max(1, Math.floor(command.maxRequests));
  const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let sent = 0;
  let acceptedEvents = 0;
  let rejectedEvents = 0;
  const start = performance.now();
  const deadline = start + durationMs;

  /** One request; `from` is when it was sent (closed loop) or due (paced). */
  async function one(index: number, from: number): Promise<void> {
    const body = bodies[index % bodies.length]!;
    let status = 'error';
    try {
      const response = await pool.request({ path: '/v1/events', method: 'POST', headers, body });
      const text = await response.body.text();
      status = String(response.statusCode);
      if (response.statusCode === 200) {
        const answer = JSON.parse(text) as { accepted: number; rejected: unknown[] };
        acceptedEvents += answer.accepted;
        rejectedEvents += answer.rejected.length;
      }
    } catch {
      // Counted under "error"; the run goes on until its bounds.
    }
    if (status === '200') latenciesMs.push(performance.now() - from);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }

  if (command.requestsPerSec === undefined) {
    const loop = async (): Promise<void> => {
      while (sent < maxRequests && performance.now() < deadline) await one(sent++, performance.now());
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  } else {
    const interval = 1000 / Math.min(Math.max(1, command.requestsPerSec), 10_000);
    const running = new Set<Promise<void>>();
    for (; sent < maxRequests; sent++) {
      const due = start + sent * interval;
      if (due >= deadline) break;
      const wait = due - performance.now();
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
      while (running.size >= concurrency) await Promise.race(running);
      const request = one(sent, due).finally(() => running.delete(request));
      running.add(request);
    }
    await Promise.all(running);
  }
  const elapsedMs = performance.now() - start;
  await pool.close();
  return { requests: sent, statuses, acceptedEvents, rejectedEvents, elapsedMs, latenciesMs };
}

async function main(): Promise<void> {
  const settings: Settings = { bodies: flag('--bodies', 200), eventsPerRequest: flag('--events', 100), gzip: process.argv.includes('--gzip') };
  const now = Date.now();
  const bodies = Array.from({ length: settings.bodies }, () => {
    const json = Buffer.from(JSON.stringify(buildBody(settings.eventsPerRequest, now)));
    return settings.gzip ? gzipSync(json) : json;
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'quartile-bench' };
  if (settings.gzip) headers['content-encoding'] = 'gzip';
  const lifetime = setTimeout(() => process.exit(3), MAX_LIFETIME_MS);
  lifetime.unref();

  const answer = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
  answer({ ready: true, bodies: bodies.length, bytesPerBody: Math.round(bodies.reduce((s, b) => s + b.length, 0) / bodies.length) });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const command = JSON.parse(line) as RunCommand | { cmd: 'exit' };
    if (command.cmd === 'exit') break;
    try {
      answer(await run(command, bodies, headers));
    } catch (error) {
      answer({ error: error instanceof Error ? error.message : String(error) });
    }
  }
  process.exit(0);
}

await main();
