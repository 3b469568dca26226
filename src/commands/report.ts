/**
 * `quartile report campaigns`: per-campaign impressions, unique viewers, completion
 * rate and spend, straight from ClickHouse (src/warehouse/reports/campaign-report.ts
 * says which tables and why). An aligned table, or one JSON object with `--json`.
 */
import type { QuartileConfig } from '../config/spec.ts';
import { openConfiguredWarehouse } from '../core/backends.ts';
import { QuartileError, isQuartileError } from '../core/errors.ts';
import { parseSince } from '../core/time-spec.ts';
import { campaignReport } from '../warehouse/reports/campaign-report.ts';
import { campaignTable } from '../warehouse/reports/campaign-table.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import type { Command } from './command.ts';
import { UsageError, cliConfig, parseFlags } from './shared.ts';

/** Opens the warehouse, saying plainly when the engine holds the embedded one. */
async function openForReport(config: QuartileConfig): Promise<Warehouse> {
  try {
    return await openConfiguredWarehouse(config);
  } catch (error) {
    if (!isQuartileError(error, 'WAREHOUSE_DATA_DIR_LOCKED')) throw error;
    throw new QuartileError(
      'WAREHOUSE_DATA_DIR_LOCKED',
      `${error.message} On the embedded defaults (chDB) the report can run only while the engine is not running, because one process at a time may open the data directory. Stop the engine (Ctrl-C) and run the report again, or run both against a ClickHouse server (QUARTILE_CLICKHOUSE_URL), where reports run beside the engine.`,
      { cause: error },
    );
  }
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'Per-campaign impressions, unique viewers, completion rate and spend from ClickHouse',
  usage: `Usage: quartile report campaigns [--since T] [--live-event ID] [--json] [--config FILE]

  campaigns        One line per campaign (and billing currency): impressions, unique
                   viewers, starts, completes, completion rate (completes / starts) and
                   spend, exact (deduplicated billing rows, not the hourly estimates).
  --since T        Only events that occurred from T on: ISO 8601 (2026-11-25T20:00:00Z),
                   epoch ms, or an age (30m, 2h, 7d).
  --live-event ID  Only events of one live event.
  --json           One JSON object: {since, liveEventId, campaigns: [...]}.

  Reads QUARTILE_CLICKHOUSE_URL, or chDB in QUARTILE_DATA_DIR; chDB allows one process
  at a time, so on the embedded defaults run it while the engine is stopped.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      since: { type: 'string' },
      'live-event': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    if (positionals[0] !== 'campaigns' || positionals.length > 1) {
      throw new UsageError(`Say \`quartile report campaigns\`${positionals[0] === undefined ? '' : `; there is no report "${positionals.join(' ')}"`}.`, 'REPORT_UNKNOWN_KIND');
    }
    let since: number | undefined;
    try {
      since = parseSince(values.since);
    } catch (error) {
      throw new UsageError(`--since ${(error as Error).message}`, 'REPORT_BAD_SINCE');
    }
    const liveEventId = values['live-event'];
    const config = cliConfig(values.config);
    const warehouse = await openForReport(config);
    try {
      const rows = await campaignReport(warehouse, { ...(since === undefined ? {} : { since }), ...(liveEventId === undefined ? {} : { liveEventId }) });
      if (values.json === true) {
        const report = { since: since === undefined ? null : new Date(since).toISOString(), liveEventId: liveEventId ?? null, campaigns: rows };
        io.stdout.write(`${JSON.stringify(report)}\n`);
      } else if (rows.length === 0) {
        io.stdout.write('No billed impressions or plays match.\n');
      } else {
        io.stdout.write(`${campaignTable(rows).join('\n')}\n`);
      }
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};
