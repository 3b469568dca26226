/**
 * The measurement vendors a simulation plays, and which of an ad's events each one
 * tracks. Each vendor listens on its own loopback address, because Quartile names a
 * beacon's vendor by the host of its URI (the port does not count).
 *
 * | vendor | host | GVL id | tracks |
 * |---|---|---|---|
 * | dv | 127.0.0.2 | 126 | impression, start, every quartile, complete |
 * | ias | 127.0.0.3 | 278 | impression, skip |
 * | nielsen | 127.0.0.4 | none | impression |
 *
 * Nielsen has no GVL id here on purpose: where GDPR applies its beacons must be
 * suppressed (pixels.allowVendorsWithoutGvlId is off by default), which the
 * reconciliation checks.
 */
import type { PixelVendorConfig } from '../../sinks/pixels/config.ts';

/** One simulated vendor. */
export interface SimVendor {
  readonly name: string;
  readonly host: string;
  readonly gvlId: number | null;
  readonly tracks: readonly SimEventType[];
}

/** The event types a simulated device reports. */
export const SIM_EVENT_TYPES = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'skip'] as const;
export type SimEventType = (typeof SIM_EVENT_TYPES)[number];

export const SIM_VENDORS: readonly SimVendor[] = [
  { name: 'dv', host: '127.0.0.2', gvlId: 126, tracks: ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete'] },
  { name: 'ias', host: '127.0.0.3', gvlId: 278, tracks: ['impression', 'skip'] },
  { name: 'nielsen', host: '127.0.0.4', gvlId: null, tracks: ['impression'] },
];

/** The `pixels.vendors` entries an engine needs to know the simulated vendors. */
export function simVendorConfig(): Record<string, PixelVendorConfig> {
  return Object.fromEntries(SIM_VENDORS.map((v) => [v.host, { name: v.name, gvlId: v.gvlId }]));
}
