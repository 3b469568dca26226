/**
 * GET /v1/admin/live-events/:liveEventId/observation?since=<epoch ms>&detailed=1 — what
 * the engine produced for a live event, for `quartile simulate` and `quartile
 * reconcile` running outside the engine. Admin token required: the answer lists event
 * ids (never device identifiers).
 */
import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../core/engine.ts';
import { requireAdmin } from '../http/admin-auth.ts';
import { isObservableLiveEventId, observeLiveEvent } from './observation.ts';

export function registerObservationRoute(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/v1/admin/live-events/:liveEventId/observation', async (request, reply) => {
    if (requireAdmin(ctx.config.admin.token, request, reply) === undefined) return reply;
    const { liveEventId } = request.params as { liveEventId: string };
    const query = request.query as { since?: string; detailed?: string };
    const since = Number(query.since ?? 0);
    if (!isObservableLiveEventId(liveEventId) || !Number.isFinite(since)) {
      return reply.code(400).send({ code: 'HTTP_BAD_REQUEST', message: 'Give a live event id of letters, digits and ._:- and ?since=<epoch ms>.' });
    }
    return observeLiveEvent(ctx.backends, ctx.codec, liveEventId, since, query.detailed === '1');
  });
}
