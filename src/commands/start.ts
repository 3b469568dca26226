/**
 * `quartile start [--role …]`: runs the engine until SIGTERM or SIGINT. The first
 * signal shuts down gracefully (stop intake, drain, commit, close); a second signal,
 * or the grace period running out, forces the exit.
 */
import { COMPONENT_FACTORIES } from '../core/components.ts';
import { startEngine } from '../core/engine.ts';
import { ROLES, isRole } from '../core/roles.ts';
import type { Command } from './command.ts';
import { CommandError, UsageError, cliConfig, parseFlags } from './shared.ts';
import { createLogger } from '../telemetry/logger.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the engine (collector, Ads Manager, pipeline, or all of them)',
  usage: `Usage: quartile start [--role ${ROLES.join('|')}] [--port N] [--config FILE]

  --role    What this process runs (default all). Collector and Ads Manager are
            stateless HTTP services; pipeline processes scale by Kafka partitions.
  --port    HTTP port (overrides QUARTILE_HTTP_PORT, default 8080).

  Without QUARTILE_KAFKA_BROKERS / QUARTILE_REDIS_URL / QUARTILE_CLICKHOUSE_URL the
  embedded backends are used: an in-process log, in-memory state, and chDB in
  QUARTILE_DATA_DIR. Health: GET /healthz, /readyz (names a backend that is down), /metrics.`,
  async run(args, io) {
    const { values } = parseFlags(args, { role: { type: 'string' }, port: { type: 'string' } });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    const role = values.role ?? 'all';
    if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${role}".`);
    const config = cliConfig(values.config, values.port === undefined ? undefined : { http: { port: values.port } });
    const logger = createLogger({ level: config.logLevel, base: { role } });
    const engine = await startEngine({ config, role, logger, components: COMPONENT_FACTORIES }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
        const why = error.code === 'EADDRINUSE' ? 'is already in use' : 'is not open to this user';
        throw new CommandError(`Port ${config.http.port} on ${config.http.host} ${why}: stop the other process, or pick another port with --port N (QUARTILE_HTTP_PORT).`);
      }
      throw error;
    });
    const page = config.controlRoom.enabled ? `; the Control Room is at ${engine.url}${config.controlRoom.path}` : '';
    io.stderr.write(`quartile ${role} listening on ${engine.url} (GET /readyz to check the backends${page})\n`);

    return new Promise<number>((resolve) => {
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal: forcing exit');
          resolve(130);
          return;
        }
        logger.info({ signal }, 'signal received: shutting down gracefully (send it again to force)');
        const force = setTimeout(() => {
          logger.error({ graceMs: config.http.shutdownGraceMs }, 'graceful shutdown took too long: forcing exit');
          resolve(1);
        }, config.http.shutdownGraceMs);
        force.unref();
        engine.stop().then(
          () => resolve(0),
          () => resolve(1),
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};
