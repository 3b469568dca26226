/**
 * The engine: opens the seams, makes sure topics and tables exist, starts the
 * components of its role, and serves HTTP. `stop()` shuts down in the order that
 * loses nothing: stop intake, drain, commit, close.
 */
import type { FastifyInstance } from 'fastify';
import type { QuartileConfig } from '../config/spec.ts';
import { createHttpServer } from '../http/server.ts';
import type { ReadinessCheck } from '../http/readiness.ts';
import { OperatorAudit } from '../http/operator-audit.ts';
import { createMetrics, type Metrics } from '../telemetry/metrics.ts';
import type { Logger } from '../telemetry/logger.ts';
import { pingSchemaRegistry } from '../transport/schema-registry-health.ts';
import { topicSpecs } from '../transport/topics.ts';
import { RecordCodec } from '../transport/avro/record-codec.ts';
import { migrate } from '../warehouse/migrate.ts';
import { openBackends, type Backends } from './backends.ts';
import type { Component } from './component.ts';
import { messageOf } from './errors.ts';
import { runs, seamsOf, type Role } from './roles.ts';

/** What a component factory gets to build a component. */
export interface EngineContext {
  readonly config: QuartileConfig;
  readonly role: Role;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly backends: Backends;
  /** Avro encoding and decoding of Quartile's records (Confluent framing when a registry is set). */
  readonly codec: RecordCodec;
  /** Operator actions: every one is logged, and the last ones kept for the Control Room. */
  readonly audit: OperatorAudit;
}

/**
 * Builds the components of a role. Later parts of Quartile add theirs here. `built`
 * holds the components made before this one (the Control Room reads them).
 */
export type ComponentFactory = (ctx: EngineContext, built: readonly Component[]) => Component | undefined | Promise<Component | undefined>;

/** Options for {@link startEngine}. */
export interface EngineOptions {
  readonly config: QuartileConfig;
  readonly role: Role;
  readonly logger: Logger;
  /** Component factories, in start order. */
  readonly components?: readonly ComponentFactory[];
}

/** A running engine. */
export interface Engine {
  readonly context: EngineContext;
  readonly http: FastifyInstance;
  /** The address the HTTP server listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Resolves when the one-time setup (topics, migrations) has succeeded. */
  readonly setupDone: Promise<void>;
  /** Graceful stop: intake, drain, commit, close. Safe to call twice. */
  stop(): Promise<void>;
}

function backendChecks(config: QuartileConfig, role: Role, backends: Backends): ReadinessCheck[] {
  const seams = seamsOf(role);
  const checks: ReadinessCheck[] = [{ name: backends.transport.kind === 'kafka' ? 'kafka' : 'event-log', check: () => backends.transport.ping() }];
  if (seams.state) checks.push({ name: backends.state.kind === 'redis' ? 'redis' : 'state', check: () => backends.state.ping() });
  if (seams.warehouse) checks.push({ name: backends.warehouse.kind === 'clickhouse' ? 'clickhouse' : 'chdb', check: () => backends.warehouse.ping() });
  if (config.schemaRegistry.url !== '') {
    checks.push({ name: 'schema-registry', check: () => pingSchemaRegistry(config.schemaRegistry) });
  }
  return checks;
}

/**
 * Runs `task` until it succeeds, retrying with capped backoff while `keepGoing()`;
 * a backend that is down at start must not stop the engine from starting.
 */
async function untilDone(
  what: string,
  task: () => Promise<void>,
  logger: Logger,
  keepGoing: () => boolean,
  onFailure: (message: string) => void = () => {},
): Promise<void> {
  for (let attempt = 0; keepGoing(); attempt++) {
    try {
      await task();
      return;
    } catch (error) {
      const delay = Math.min(500 * 2 ** attempt, 10_000);
      onFailure(`${what} failed: ${messageOf(error)}`);
      logger.warn({ err: messageOf(error), retryInMs: delay }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  }
}

/** Starts an engine and resolves once its HTTP server listens. */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { config, role, logger } = options;
  const metrics = createMetrics({ role });
  const backends = await openBackends(config, logger, { eagerWarehouse: seamsOf(role).warehouse });
  const codec = new RecordCodec({ registry: config.schemaRegistry });
  const audit = new OperatorAudit(logger, { capacity: config.admin.auditEntries });
  const context: EngineContext = { config, role, logger, metrics, backends, codec, audit };

  const components: Component[] = [];
  let stopping = false;
  try {
    for (const factory of options.components ?? []) {
      const component = await factory(context, components);
      if (component !== undefined) components.push(component);
    }
  } catch (error) {
    await backends.close();
    throw error;
  }

  // Until topics, schemas and migrations are in place the engine is not ready, and
  // /readyz says which step is failing (e.g. a ClickHouse too old for the schema).
  let setupProblem: string | undefined = 'setting up topics, schemas and tables';
  const setupCheck: ReadinessCheck = {
    name: 'setup',
    check: async () => {
      if (setupProblem !== undefined) throw new Error(setupProblem);
    },
  };
  const noteProblem = (message: string): void => {
    setupProblem = message;
  };
  const http = createHttpServer({
    logger,
    metrics,
    readiness: () => [...backendChecks(config, role, backends), setupCheck, ...components.flatMap((c) => c.readiness?.() ?? [])],
  });
  for (const c of components) c.routes?.(http);

  const setupDone = (async () => {
    await untilDone(
      'topic creation',
      async () => {
        const created = await backends.transport.ensureTopics(topicSpecs(config.kafka));
        if (created.length > 0) logger.info({ topics: created }, 'created topics');
      },
      logger,
      () => !stopping,
      noteProblem,
    );
    if (codec.framing === 'confluent') {
      await untilDone('schema registration', () => codec.registerAll(), logger, () => !stopping, noteProblem);
    }
    // Beacon delivery writes beacon_deliveries: it needs the tables as much as the pipeline.
    if (runs(role, 'pipeline') || runs(role, 'pixels')) {
      await untilDone(
        'warehouse migration',
        async () => {
          const report = await migrate(backends.warehouse);
          if (report.applied.length > 0) logger.info({ applied: report.applied }, 'applied warehouse migrations');
        },
        logger,
        () => !stopping,
        noteProblem,
      );
    }
    if (stopping) return;
    for (const c of components) await c.start?.();
    setupProblem = undefined;
  })();

  try {
    await http.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    stopping = true;
    await backends.close();
    throw error;
  }
  const address = http.server.address();
  const url = typeof address === 'object' && address !== null ? `http://${config.http.host}:${address.port}` : `http://${config.http.host}:${config.http.port}`;
  logger.info({ url, role, transport: backends.transport.kind, state: backends.state.kind, warehouse: backends.warehouse.kind }, 'quartile started');

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      logger.info('stopping: closing intake');
      // Stop intake first: no new requests, in-flight ones finish.
      const closing = http.close();
      for (const c of components) await c.drain?.().catch((e: unknown) => logger.error({ err: messageOf(e), component: c.name }, 'drain failed'));
      await closing;
      await setupDone.catch(() => {});
      for (const c of [...components].reverse()) {
        await c.stop().catch((e: unknown) => logger.error({ err: messageOf(e), component: c.name }, 'stop failed'));
      }
      await backends.close();
      logger.info('stopped');
    })();
    return stopped;
  };

  return { context, http, url, setupDone, stop };
}
