/**
 * Applies pending migrations and records each in `schema_migrations`, with a checksum
 * of its statements so an edited migration is reported rather than silently skipped.
 * Safe to run again, and safe to run from several processes at once (every statement
 * is idempotent).
 */
import { createHash } from 'node:crypto';
import { QuartileError, messageOf } from '../core/errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import type { Warehouse } from './warehouse.ts';

/** What one run did. */
export interface MigrationReport {
  readonly applied: Array<{ version: number; name: string }>;
  readonly alreadyApplied: number;
  /** Applied migrations whose statements changed since (a developer edited one). */
  readonly changed: Array<{ version: number; name: string }>;
}

function checksum(migration: Migration): string {
  return createHash('sha256').update(migration.statements('db').join(';\n')).digest('hex').slice(0, 16);
}

/** Where a migration run stands: statements applied of those pending. */
export interface MigrationProgress {
  readonly done: number;
  readonly total: number;
}

/** Applies what is pending, reporting each step through `onProgress`. */
export async function migrate(
  warehouse: Warehouse,
  options: { migrations?: readonly Migration[]; onProgress?: (line: string, progress: MigrationProgress) => void } = {},
): Promise<MigrationReport> {
  const migrations = [...(options.migrations ?? MIGRATIONS)].sort((a, b) => a.version - b.version);
  const db = warehouse.database;
  await warehouse.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await warehouse.command(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await warehouse.query<{ version: number | string; checksum: string }>(
    `SELECT version, any(checksum) AS checksum FROM ${db}.schema_migrations GROUP BY version`,
  );
  const done = new Map(rows.map((r) => [Number(r.version), r.checksum]));
  const report: MigrationReport = { applied: [], alreadyApplied: 0, changed: [] };
  const total = migrations.filter((m) => !done.has(m.version)).reduce((n, m) => n + m.statements(db).length, 0);
  let applied = 0;
  for (const migration of migrations) {
    const sum = checksum(migration);
    const recorded = done.get(migration.version);
    if (recorded !== undefined) {
      (report as { alreadyApplied: number }).alreadyApplied++;
      if (recorded !== sum) report.changed.push({ version: migration.version, name: migration.name });
      continue;
    }
    const step = `applying ${migration.version} ${migration.name}`;
    options.onProgress?.(step, { done: applied, total });
    for (const statement of migration.statements(db)) {
      try {
        await warehouse.command(statement);
        options.onProgress?.(step, { done: ++applied, total });
      } catch (cause) {
        throw new QuartileError(
          'WAREHOUSE_MIGRATION_FAILED',
          `Migration ${migration.version} (${migration.name}) failed: ${messageOf(cause)}. Fix the cause and run \`quartile migrate\` again; applied steps are skipped.`,
          { cause },
        );
      }
    }
    await warehouse.insert('schema_migrations', [
      { version: migration.version, name: migration.name, checksum: sum, applied_at: Math.floor(Date.now() / 1000) },
    ]);
    report.applied.push({ version: migration.version, name: migration.name });
  }
  return report;
}
