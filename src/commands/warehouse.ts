/**
 * `quartile warehouse serve`: shares the embedded warehouse (chDB) between the
 * processes of one machine — a collector, pipelines, the operator CLI — over
 * ClickHouse's HTTP interface. Point them at it with QUARTILE_CLICKHOUSE_URL.
 */
import { join } from 'node:path';
import { openChdbSession } from '../warehouse/open-warehouse.ts';
import { serveWarehouse } from '../warehouse/serve/chdb-http-server.ts';
import type { Command } from './command.ts';
import { UsageError, cliConfig, parseFlags } from './shared.ts';

const usage = `Usage: quartile warehouse serve [--port P]

Serves the embedded warehouse (chDB in QUARTILE_DATA_DIR/chdb) on 127.0.0.1:P
(default 8125) over ClickHouse's HTTP interface, so several Quartile processes on one
machine share it: start them with QUARTILE_CLICKHOUSE_URL=http://127.0.0.1:P.
It has no users and listens on loopback only; for more than one machine, run a
ClickHouse server. Stop it with Ctrl-C.`;

export const warehouseCommand: Command = {
  name: 'warehouse',
  summary: 'Serve the embedded warehouse to the other Quartile processes of this machine',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { port: { type: 'string' } });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    if (positionals[0] !== 'serve') throw new UsageError(`Say what to do: \`quartile warehouse serve\`; got "${positionals[0] ?? ''}".`);
    const port = Number(values.port ?? 8125);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a port number; got "${values.port}".`);
    const config = cliConfig(values.config);
    const session = await openChdbSession(join(config.dataDir, 'chdb'));
    const server = await serveWarehouse(session, port);
    io.stderr.write(`quartile warehouse listening on ${server.url} (chDB in ${session.path})\n`);
    return new Promise<number>((resolve) => {
      const stop = (): void => {
        void server.close().then(async () => {
          await session.connection.close();
          session.unlock();
          resolve(0);
        });
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  },
};
