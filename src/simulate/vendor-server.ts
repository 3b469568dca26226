/**
 * A simulated measurement vendor: an HTTP endpoint on its own loopback address that
 * counts every beacon it accepts in a {@link BeaconGrid}. It tells viewers apart by the
 * device User-Agent Quartile forwards (VAST 4.3 §1.1.3 `X-Device-User-Agent`), as real
 * vendors do. It can be told to fail (503) for a while, to play a vendor outage.
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

/** Starts a vendor on `host` (a loopback address); `port` 0 picks a free one. */
export async function startVendorServer(name: string, host: string, port: number, grid: BeaconGrid): Promise<VendorServer> {
  let accepted = 0;
  let failed = 0;
  let unknown = 0;
  let failUntil = 0;
  const server: Server = createServer((request, response) => {
    if (Date.now() < failUntil) {
      failed++;
      response.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    // /t/<break>/<sequence>/<event>?…
    const [, t, b, s, type] = (request.url ?? '').split('?')[0]!.split('/');
    const viewer = viewerOfUserAgent(String(request.headers['x-device-user-agent'] ?? ''));
    const cell = t === 't' && viewer !== undefined ? grid.cell(viewer, Number(b), Number(s), type ?? '') : undefined;
    if (cell === undefined) unknown++;
    else {
      accepted++;
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
    hits: () => ({ accepted, failed, unknown }),
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
