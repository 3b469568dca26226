/**
 * The HTTP server: fastify with liveness, readiness and Prometheus metrics. Role
 * components (collector, Ads Manager, Control Room) register their routes on it.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { checkReadiness, type ReadinessCheck } from './readiness.ts';

/** What the server needs. */
export interface HttpServerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: () => readonly ReadinessCheck[];
  /** Largest request body accepted, in bytes (routes may lower it). */
  readonly bodyLimit?: number;
}

/** Builds the fastify app with /healthz, /readyz and /metrics. */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request log lines would carry client IPs and user agents; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Behind a load balancer the caller's address is in X-Forwarded-For; it is only
    // ever used in flight, never logged or stored.
    trustProxy: true,
    return503OnClosing: true,
  });

  app.addHook('onResponse', async (request, reply) => {
    options.metrics.httpSeconds.observe(
      { route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'HTTP_NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}. See the README for Quartile's APIs.` });
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error, route: request.routeOptions.url }, 'request failed');
    void reply.code(status).send({
      code: status >= 500 ? 'HTTP_INTERNAL' : (error.code ?? 'HTTP_BAD_REQUEST'),
      message: status >= 500 ? 'Internal error; the engine logged the details.' : error.message,
    });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const report = await checkReadiness(options.readiness());
    for (const c of report.checks) options.metrics.backendUp.set({ backend: c.name }, c.up ? 1 : 0);
    void reply.code(report.ready ? 200 : 503).header('cache-control', 'no-store');
    return {
      status: report.ready ? 'ready' : 'not ready',
      ...(report.ready ? {} : { down: report.down, message: `Not ready: ${report.down.join(', ')} ${report.down.length === 1 ? 'is' : 'are'} down.` }),
      checks: report.checks,
    };
  });

  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  return app;
}
