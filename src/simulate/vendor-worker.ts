/**
 * The simulated vendors in a worker thread of their own. At a 100,000-viewer break they
 * answer millions of beacons; on the simulator's event loop (which also plays the
 * devices) each answer waited behind device work, the vendors looked slow (100+ ms), and
 * the surge measured the simulator instead of Quartile. Counts go to shared memory the
 * simulator reads directly.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BeaconGrid, type GridShape } from './beacon-grid.ts';
import { SIM_VENDORS } from './sim-vendors.ts';
import { startVendorServer, type VendorServer } from './vendor-server.ts';

/** What the simulator hands the worker. */
export interface VendorWorkerData {
  readonly shape: GridShape;
  readonly hits: ReadonlyMap<string, SharedArrayBuffer>;
  /** Four Int32 counters per vendor, in SIM_VENDORS order. */
  readonly counters: SharedArrayBuffer;
}

/** Messages the simulator sends. */
export type VendorWorkerMessage = { readonly failFor: { readonly vendor: string; readonly ms: number } } | { readonly close: true };

const data = workerData as VendorWorkerData;
const grid = new BeaconGrid(data.shape, data.hits);
const servers: VendorServer[] = await Promise.all(
  SIM_VENDORS.map((v, i) => startVendorServer(v.name, v.host, 0, grid, new Int32Array(data.counters, i * 16, 4))),
);
parentPort!.on('message', (message: VendorWorkerMessage) => {
  if ('failFor' in message) servers.find((s) => s.name === message.failFor.vendor)?.failFor(message.failFor.ms);
  else void Promise.all(servers.map((s) => s.close())).then(() => parentPort!.postMessage({ closed: true }));
});
parentPort!.postMessage({ ports: Object.fromEntries(servers.map((s) => [s.name, s.port])) });
