/** `quartile migrate`: applies pending ClickHouse migrations (safe to run again). */
import { createProgress, type Progress } from '../cli-ui/progress.ts';
import { openConfiguredWarehouse } from '../core/backends.ts';
import { migrate } from '../warehouse/migrate.ts';
import type { Command } from './command.ts';
import { cliConfig, parseFlags } from './shared.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply pending ClickHouse migrations (versioned, idempotent)',
  usage: `Usage: quartile migrate [--config FILE]

  Creates the database and applies every migration not yet recorded in
  schema_migrations. Uses QUARTILE_CLICKHOUSE_URL, or chDB in QUARTILE_DATA_DIR.`,
  async run(args, io) {
    const { values } = parseFlags(args, {});
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    const config = cliConfig(values.config);
    const warehouse = await openConfiguredWarehouse(config);
    try {
      let progress: Progress | undefined;
      const report = await migrate(warehouse, {
        onProgress: (step, { done, total }) => {
          progress ??= createProgress({ label: 'migrate', total, stream: io.stderr });
          progress.update(done, step);
        },
      });
      progress?.done();
      for (const m of report.applied) io.stdout.write(`applied ${m.version} ${m.name}\n`);
      for (const m of report.changed) io.stderr.write(`warning: migration ${m.version} (${m.name}) changed after it was applied; write a new migration instead.\n`);
      io.stdout.write(`${report.applied.length} applied, ${report.alreadyApplied} already applied (${warehouse.kind}, database ${warehouse.database})\n`);
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};
