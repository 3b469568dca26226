/**
 * The Control Room: the live operator page, served by every engine role at
 * `controlRoom.path` (default `/`). It shows what this process runs, from its own
 * metrics and components, pushed every `controlRoom.intervalMs` as server-sent
 * events. Reading needs no token; the operator actions it offers go to the admin API,
 * which does.
 */
import type { FastifyInstance } from 'fastify';
import { AdsManager } from '../ads/manager/ads-manager.ts';
import type { Component } from '../core/component.ts';
import type { EngineContext } from '../core/engine.ts';
import { runs, seamsOf } from '../core/roles.ts';
import { vendorStates, type BeaconControl } from '../pipeline/admin-routes.ts';
import { BeaconDeliveryComponent } from '../beacons/delivery-component.ts';
import { PipelineComponent } from '../pipeline/pipeline-component.ts';
import { CONTROL_ROOM_PREFIX, loadAssets } from './assets.ts';
import { BillingTotals, type BillingView } from './billing-totals.ts';
import { readMetrics } from './metric-readings.ts';
import { buildSnapshot, type ControlRoomSnapshot } from './snapshot.ts';
import { SnapshotStream } from './snapshot-stream.ts';

export class ControlRoom implements Component {
  readonly name = 'control-room';
  readonly #ctx: EngineContext;
  readonly #pipeline: PipelineComponent | undefined;
  readonly #adsManager: AdsManager | undefined;
  /** Beacon delivery in this process: in its pipeline, or on its own (role pixels). */
  readonly #pixels: BeaconControl | undefined;
  readonly #billing: BillingTotals | undefined;
  readonly #stream: SnapshotStream;

  /** `built`: the engine's other components, whose state the page shows. */
  constructor(ctx: EngineContext, built: readonly Component[]) {
    this.#ctx = ctx;
    this.#pipeline = built.find((c): c is PipelineComponent => c instanceof PipelineComponent);
    this.#adsManager = built.find((c): c is AdsManager => c instanceof AdsManager);
    this.#pixels = this.#pipeline?.pixels ?? built.find((c): c is BeaconDeliveryComponent => c instanceof BeaconDeliveryComponent)?.pixels;
    this.#billing = seamsOf(ctx.role).warehouse ? new BillingTotals(ctx.backends.warehouse, { everyMs: ctx.config.controlRoom.billingEveryMs }) : undefined;
    this.#stream = new SnapshotStream((previous) => this.snapshot(previous), {
      intervalMs: ctx.config.controlRoom.intervalMs,
      logger: ctx.logger.child({ component: 'control-room' }),
    });
  }

  /** Builds a snapshot of this process now. */
  async snapshot(previous?: ControlRoomSnapshot): Promise<ControlRoomSnapshot> {
    const { role, metrics, audit } = this.#ctx;
    const pixels = this.#pixels;
    // Component state first, counters after: counters only grow, so a break shown
    // ready is never shown with its cue not yet counted.
    const state = {
      at: Date.now(),
      role,
      runs: { collector: runs(role, 'collector'), adsManager: this.#adsManager !== undefined, pipeline: this.#pipeline !== undefined },
      vendors: pixels === undefined ? undefined : vendorStates(pixels),
      billing: this.#billingView(),
      breaks: this.#adsManager?.liveActivity.breaks(),
      pipeline: this.#pipeline?.phase(),
      actions: audit.recent(),
    };
    return buildSnapshot({ ...state, metrics: await readMetrics(metrics) }, previous);
  }

  #billingView(): BillingView {
    if (this.#billing !== undefined) return this.#billing.view();
    return { status: 'unavailable', message: `A ${this.#ctx.role} process has no warehouse; billing totals are on the pages of pipeline processes.` };
  }

  routes(app: FastifyInstance): void {
    const assets = loadAssets();
    app.get(this.#ctx.config.controlRoom.path, async (_request, reply) => {
      return reply.header('content-type', assets.page.contentType).header('cache-control', 'no-cache').send(assets.page.body);
    });
    app.get(`${CONTROL_ROOM_PREFIX}/assets/:name`, async (request, reply) => {
      const asset = assets.files.get((request.params as { name: string }).name);
      if (asset === undefined) return reply.code(404).send({ code: 'HTTP_NOT_FOUND', message: 'No such Control Room asset.' });
      return reply.header('content-type', asset.contentType).header('cache-control', 'no-cache').send(asset.body);
    });
    app.get(`${CONTROL_ROOM_PREFIX}/snapshot`, async (_request, reply) => reply.header('cache-control', 'no-store').send(await this.#stream.current()));
    app.get(`${CONTROL_ROOM_PREFIX}/stream`, (_request, reply) => {
      this.#stream.attach(reply);
    });
    // Open pages keep their streams open: end them when the server closes, or it never would.
    app.addHook('preClose', async () => this.#stream.close());
  }

  async stop(): Promise<void> {
    this.#stream.close();
    await this.#billing?.settle();
  }
}
