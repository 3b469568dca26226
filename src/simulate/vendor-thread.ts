/**
 * Starts the simulated vendors in a worker thread (see vendor-worker.ts) and gives the
 * simulator the same {@link VendorServer} handles it would have in its own thread.
 * The worker loads TypeScript through tsx, as the CLI does.
 */
import { Worker } from 'node:worker_threads';
import type { BeaconGrid } from './beacon-grid.ts';
import { SIM_VENDORS } from './sim-vendors.ts';
import { readVendorCounters, type VendorServer } from './vendor-server.ts';
import type { VendorWorkerData, VendorWorkerMessage } from './vendor-worker.ts';

export async function startVendorThread(hits: BeaconGrid): Promise<VendorServer[]> {
  const counters = new SharedArrayBuffer(SIM_VENDORS.length * 16);
  const data: VendorWorkerData = { shape: hits.shape, hits: hits.buffers(), counters };
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./vendor-worker.ts', import.meta.url).href;
  // An eval'd bootstrap: register tsx's loader in the worker, then load the TypeScript entry.
  const worker = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData: data });
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { ports: Record<string, number> }) => resolve(m.ports));
  });
  worker.unref();
  const send = (message: VendorWorkerMessage): void => worker.postMessage(message);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      worker.once('message', () => void worker.terminate().then(() => resolve()));
      send({ close: true });
    });
    return closing;
  };
  return SIM_VENDORS.map((v, i) => ({
    name: v.name,
    port: ports[v.name] ?? 0,
    hits: () => readVendorCounters(new Int32Array(counters, i * 16, 4)),
    failFor: (ms: number) => send({ failFor: { vendor: v.name, ms } }),
    close,
  }));
}
