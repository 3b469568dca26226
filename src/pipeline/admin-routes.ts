/**
 * The pipeline's operator API, behind the admin token: dead letters (inspect,
 * replay by code), vendor beacons (state and queue depth, pause and resume one
 * vendor) and a graceful drain. Every action goes to the audit trail with who did it.
 * Processes of the `pixels` role serve the vendor beacon routes alone.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EngineContext } from '../core/engine.ts';
import { parseSince } from '../core/time-spec.ts';
import { requireAdmin, type Operator } from '../http/admin-auth.ts';
import { inspectDeadLetters, replayDeadLetters } from './dead-letter-tools.ts';
import type { PipelinePhase } from './pipeline-component.ts';

/** What the vendor routes need of beacon delivery in this process. */
export interface BeaconControl {
  /** Pauses a vendor in every delivering process (through the state seam). */
  pause(vendor: string): Promise<void>;
  resume(vendor: string): Promise<void>;
  /** Vendors paused, as this process knows. */
  paused(): string[];
  /** Beacons held per vendor in this process. */
  queueDepth(): Record<string, number>;
}

/** What the routes need of the pipeline component. */
export interface AdministeredPipeline {
  /** Beacon delivery in this process, when it runs here. */
  readonly pixels: BeaconControl | undefined;
  phase(): PipelinePhase;
  stop(): Promise<void>;
}

/** A vendor as named in pixels.vendors, or the host of one that is not. */
const VENDOR_NAME = /^[A-Za-z0-9._-]{1,253}$/;

/** One vendor's beacon state in this process. */
export interface VendorBeaconState {
  readonly vendor: string;
  readonly paused: boolean;
  /** Beacons queued in this process (waiting, backing off or in flight). */
  readonly queued: number;
}

/** Every vendor that is paused or has beacons queued, by name. */
export function vendorStates(pixels: BeaconControl): VendorBeaconState[] {
  const paused = new Set(pixels.paused());
  const depth = pixels.queueDepth();
  const names = [...new Set([...paused, ...Object.keys(depth)])].sort();
  return names.map((vendor) => ({ vendor, paused: paused.has(vendor), queued: depth[vendor] ?? 0 }));
}

export function registerPipelineAdminRoutes(app: FastifyInstance, ctx: EngineContext, pipeline: AdministeredPipeline): void {
  const { config, backends, codec, audit } = ctx;
  const admin = (request: FastifyRequest, reply: FastifyReply): Operator | undefined => requireAdmin(config.admin.token, request, reply);

  app.get('/v1/admin/dlq', async (request, reply) => {
    if (admin(request, reply) === undefined) return reply;
    const since = parseSince((request.query as { since?: string }).since);
    return { codes: await inspectDeadLetters(backends.transport, codec, since === undefined ? {} : { since }) };
  });

  app.post('/v1/admin/dlq/replay', async (request, reply) => {
    const operator = admin(request, reply);
    if (operator === undefined) return reply;
    const body = (request.body ?? {}) as { code?: unknown; since?: unknown; fromStart?: unknown };
    if (typeof body.code !== 'string' || body.code === '') return reply.code(400).send({ code: 'HTTP_BAD_REQUEST', message: 'Give the reason code to replay: {"code": "RESOLVE_MISSING_METADATA"}.' });
    const since = parseSince(typeof body.since === 'string' ? body.since : undefined);
    const report = await replayDeadLetters(backends.transport, codec, { code: body.code, fromStart: body.fromStart === true, ...(since === undefined ? {} : { since }) });
    audit.record(operator, 'dlq-replay', { ...report }, 'operator replayed dead letters');
    return report;
  });

  app.get('/v1/admin/pipeline', async (request, reply) => {
    if (admin(request, reply) === undefined) return reply;
    return { state: pipeline.phase() };
  });

  app.post('/v1/admin/pipeline/drain', async (request, reply) => {
    const operator = admin(request, reply);
    if (operator === undefined) return reply;
    const before = pipeline.phase();
    audit.record(operator, 'pipeline-drain', { from: before }, 'operator drained the pipeline');
    // Fetching stops at once; in-flight batches finish and commit before this answers.
    await pipeline.stop();
    return { state: pipeline.phase(), from: before };
  });
}

/**
 * The vendor beacon routes. `none` explains, when this process delivers no beacons, why
 * and where to go instead.
 */
export function registerPixelsAdminRoutes(app: FastifyInstance, ctx: EngineContext, pixels: BeaconControl | undefined, none: string): void {
  const { config, audit } = ctx;
  const admin = (request: FastifyRequest, reply: FastifyReply): Operator | undefined => requireAdmin(config.admin.token, request, reply);

  /** Beacon delivery, or an answer saying it does not run in this process. */
  const pixelsOr = (reply: FastifyReply): BeaconControl | undefined => {
    if (pixels !== undefined) return pixels;
    void reply.code(409).send({ code: 'ADMIN_PIXELS_DISABLED', message: none });
    return undefined;
  };

  app.get('/v1/admin/pixels', async (request, reply) => {
    if (admin(request, reply) === undefined) return reply;
    const pixels = pixelsOr(reply);
    if (pixels === undefined) return reply;
    return { vendors: vendorStates(pixels) };
  });

  for (const verb of ['pause', 'resume'] as const) {
    app.post(`/v1/admin/pixels/:vendor/${verb}`, async (request, reply) => {
      const operator = admin(request, reply);
      if (operator === undefined) return reply;
      const pixels = pixelsOr(reply);
      if (pixels === undefined) return reply;
      const { vendor } = request.params as { vendor: string };
      if (!VENDOR_NAME.test(vendor)) {
        return reply.code(400).send({ code: 'ADMIN_BAD_VENDOR', message: 'Name the vendor as in pixels.vendors (e.g. dv), or the beacon host of a vendor not listed there: letters, digits, dots, dashes and underscores.' });
      }
      if (verb === 'pause') await pixels.pause(vendor);
      else await pixels.resume(vendor);
      const state = vendorStates(pixels).find((v) => v.vendor === vendor) ?? { vendor, paused: false, queued: 0 };
      audit.record(operator, `pixels-${verb}`, { vendor, queued: state.queued }, verb === 'pause' ? 'operator paused a vendor\'s beacons' : 'operator resumed a vendor\'s beacons');
      return state;
    });
  }
}
