/**
 * GET /v1/admin/live-events/:liveEventId/observation?since=<epoch ms>&level=progress|counts|detailed — what
 * the engine produced for a live event, for `quartile simulate` and `quartile
 * reconcile` running outside the engine. Admin token required: the answer lists event
 * ids (never device identifiers).
 */
import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../core/engine.ts';
import { requireAdmin } from '../http/admin-auth.ts';
import { OBSERVATION_LEVELS, isObservableLiveEventId, observeLiveEvent, type ObservationLevel } from './observation.ts';

export function registerObservationRoute(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/v1/admin/live-events/:liveEventId/observation', async (request, reply) => {
    if (requireAdmin(ctx.config.admin.token, request, reply) === undefined) return reply;
    const { liveEventId } = request.params as { liveEventId: string };
    const query = request.query as { since?: string; detailed?: string; level?: string };
    const since = Number(query.since ?? 0);
    // ?detailed=1 is the older spelling of ?level=detailed.
    const level = (query.level ?? (query.detailed === '1' ? 'detailed' : 'counts')) as ObservationLevel;
    if (!isObservableLiveEventId(liveEventId) || !Number.isFinite(since) || !OBSERVATION_LEVELS.includes(level)) {
      return reply.code(400).send({
        code: 'HTTP_BAD_REQUEST',
        message: `Give a live event id of letters, digits and ._:-, ?since=<epoch ms> and optionally ?level=${OBSERVATION_LEVELS.join('|')}.`,
      });
    }
    return observeLiveEvent(ctx.backends, ctx.codec, liveEventId, since, level);
  });
}
