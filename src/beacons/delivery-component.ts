/**
 * Beacon delivery as an engine component of its own: what `quartile start --role
 * pixels` runs. Pipeline processes deliver beacons too unless `pixels.deliver` is off;
 * this role lets an operator give delivery processes of its own (scaled by the
 * partitions of ads.beacons, or started at a lower CPU priority so that billing keeps
 * the CPU at a surge while beacons wait in Kafka).
 */
import type { FastifyInstance } from 'fastify';
import type { Component } from '../core/component.ts';
import type { EngineContext } from '../core/engine.ts';
import { registerPixelsAdminRoutes } from '../pipeline/admin-routes.ts';
import { BeaconDeliverer } from '../../sinks/pixels/deliverer.ts';

export class BeaconDeliveryComponent implements Component {
  readonly name = 'pixels';
  /** Delivery in this process (pause/resume per vendor, queue depth). */
  readonly pixels: BeaconDeliverer;
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.pixels = new BeaconDeliverer(ctx);
  }

  routes(app: FastifyInstance): void {
    registerPixelsAdminRoutes(app, this.#ctx, this.pixels, '');
  }

  start(): Promise<void> {
    return this.pixels.start();
  }

  stop(): Promise<void> {
    return this.pixels.stop();
  }
}
