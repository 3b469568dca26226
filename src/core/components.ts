/**
 * The component factories of each role, in start order. Each part of Quartile
 * (collector, Ads Manager, pipeline, Control Room) adds its factory here; a factory
 * returns undefined when the role does not run it.
 */
import { AdsManager } from '../ads/manager/ads-manager.ts';
import { Collector } from '../collector/collector.ts';
import { ControlRoom } from '../control-room/control-room.ts';
import { PipelineComponent } from '../pipeline/pipeline-component.ts';
import { BeaconDeliveryComponent } from '../beacons/delivery-component.ts';
import type { ComponentFactory } from './engine.ts';
import { runs } from './roles.ts';

export const COMPONENT_FACTORIES: readonly ComponentFactory[] = [
  (ctx) =>
    runs(ctx.role, 'collector')
      ? new Collector({ config: ctx.config, transport: ctx.backends.transport, codec: ctx.codec, metrics: ctx.metrics, logger: ctx.logger })
      : undefined,
  (ctx) => (runs(ctx.role, 'ads-manager') ? new AdsManager(ctx) : undefined),
  (ctx) => (runs(ctx.role, 'pipeline') ? new PipelineComponent(ctx) : undefined),
  // `all` delivers beacons inside its pipeline; only the pixels role runs delivery alone.
  (ctx) => (ctx.role === 'pixels' && ctx.config.pixels.enabled ? new BeaconDeliveryComponent(ctx) : undefined),
  // Last: it shows the components built before it.
  (ctx, built) => (ctx.config.controlRoom.enabled ? new ControlRoom(ctx, built) : undefined),
];
