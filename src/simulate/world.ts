/**
 * The parties around the engine in a simulation: the VAST ad server and the vendor
 * endpoints, plus the engine settings that make the engine use them.
 */
import { startAdServer, type AdServer } from './ad-server.ts';
import { BeaconGrid } from './beacon-grid.ts';
import type { SimulationOptions } from './options.ts';
import { simVendorConfig } from './sim-vendors.ts';
import type { VendorServer } from './vendor-server.ts';
import { startVendorThread } from './vendor-thread.ts';

export interface SimWorld {
  readonly adServer: AdServer;
  readonly vendors: readonly VendorServer[];
  /** Beacons the vendors accepted, per cell. */
  readonly hits: BeaconGrid;
  close(): Promise<void>;
}

/** Starts the ad server (on `adServerPort`, 0 = any) and one server per vendor. */
export async function startWorld(options: SimulationOptions, adServerPort = 0): Promise<SimWorld> {
  const hits = new BeaconGrid({ viewers: options.viewers, breaks: options.breaks, podSize: options.podSize }, true);
  const vendors = await startVendorThread(hits);
  const adServer = await startAdServer({
    podSize: options.podSize,
    adDurationSec: options.adDurationSec,
    skipOffsetSec: 5,
    vendorPorts: Object.fromEntries(vendors.map((v) => [v.name, v.port])),
    port: adServerPort,
  });
  return {
    adServer,
    vendors,
    hits,
    close: async () => {
      await adServer.close();
      await vendors[0]?.close();
    },
  };
}

/**
 * The config an engine needs to play a simulation: the ad server as its ad source, the
 * simulated vendors by name and GVL id, loopback allowed for both (the SSRF guard
 * refuses private addresses otherwise), and sessions that close by inactivity quickly
 * enough for the simulation's sped-up clock.
 */
export function simulationEngineConfig(adSourceUrl: string): Record<string, unknown> {
  return {
    ads: { allowPrivateNetwork: true, sources: [{ id: 'simulation', url: adSourceUrl }], fireErrorUris: false },
    pixels: { allowPrivateNetwork: true, vendors: simVendorConfig() },
    pipeline: { sessionGapMs: 3000, idleWatermarkMs: 2000 },
  };
}
