/**
 * A simulated measurement vendor: an HTTP endpoint on its own loopback address that
 * counts every beacon it accepts in a {@link BeaconGrid}. It tells viewers apart by the
 * device User-Agent Quartile forwards (VAST 4.3 §1.1.3 `X-Device-User-Agent`), as real
 * vendors do. It can be told to fail (503) for a while, to play a vendor outage.
 *
 * Like a vendor that deduplicates by URL, it counts a request that repeats a beacon
 * with the same `cb` (cache buster) as a re-fire of the same request — what a
 * process killed between the vendor's answer and its ledger write sends again — and a
 * second request with another cache buster as a second beacon.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BeaconGrid } from './beacon-grid.ts';
import { viewerOfUserAgent } from './devices.ts';

/** What a vendor server saw. */
export interface VendorHits {
  /** Beacons answered 2xx. */
  readonly accepted: number;
  /** Requests answered 503 while failing. */
  readonly failed: number;
  /** Requests that are no beacon of this simulation (unknown path or viewer). */
  readonly unknown: number;
  /** Requests that repeated an accepted beacon with the same cache buster. */
  readonly refired: number;
}

/** A running vendor server. */
export interface VendorServer {
  readonly name: string;
  readonly port: number;
  hits(): VendorHits;
  /** Answer 503 (with Retry-After: 1) for the next `ms` milliseconds. */
  failFor(ms: number): void;
  close(): Promise<void>;
}

/** Where a vendor keeps its counts: four Int32 slots (accepted, failed, unknown, refired), shareable with another thread. */
export type VendorCounters = Int32Array;

const ACCEPTED = 0;
const FAILED = 1;
const UNKNOWN = 2;
const REFIRED = 3;

/** Reads counters written by a vendor (in this thread or a worker). */
export function readVendorCounters(c: VendorCounters): VendorHits {
  return { accepted: Atomics.load(c, ACCEPTED), failed: Atomics.load(c, FAILED), unknown: Atomics.load(c, UNKNOWN), refired: Atomics.load(c, REFIRED) };
}

/** Starts a vendor on `host` (a loopback address); `port` 0 picks a free one. */
export async function startVendorServer(name: string, host: string, port: number, grid: BeaconGrid, counters: VendorCounters = new Int32Array(4)): Promise<VendorServer> {
  let failUntil = 0;
  const count = (slot: number): void => void Atomics.add(counters, slot, 1);
  // The cache buster each cell was first accepted with.
  const firstCacheBuster = new Uint32Array(grid.cells(name).length);
  const server: Server = createServer((request, response) => {
    if (Date.now() < failUntil) {
      count(FAILED);
      response.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    // /t/<break>/<sequence>/<event>?…
    const [path, query = ''] = (request.url ?? '').split('?') as [string, string?];
    const [, t, b, s, type] = path.split('/');
    const viewer = viewerOfUserAgent(String(request.headers['x-device-user-agent'] ?? ''));
    const cell = t === 't' && viewer !== undefined ? grid.cell(viewer, Number(b), Number(s), type ?? '') : undefined;
    const cacheBuster = Number(/(?:^|&)cb=(\d{1,9})(?:&|$)/.exec(query)?.[1] ?? 0);
    if (cell === undefined) count(UNKNOWN);
    else if (grid.get(name, cell) > 0 && cacheBuster !== 0 && firstCacheBuster[cell] === cacheBuster) count(REFIRED);
    else {
      count(ACCEPTED);
      if (grid.get(name, cell) === 0) firstCacheBuster[cell] = cacheBuster;
      grid.add(name, cell);
    }
    response.writeHead(204).end();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    name,
    port: (server.address() as AddressInfo).port,
    hits: () => readVendorCounters(counters),
    failFor: (ms) => {
      failUntil = Date.now() + ms;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
