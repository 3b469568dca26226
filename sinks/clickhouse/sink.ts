/**
 * The ClickHouse sink: enriched events into `ad_events`, impressions also into
 * `billable_impressions`, closed sessions into `ad_sessions`.
 *
 * Every insert carries an `insert_deduplication_token` derived from the table, the
 * source partition and the first and last source offsets of its rows (sessions: their
 * keys and versions), so a retried insert of the same rows is ignored by ClickHouse
 * (the tables keep a non-replicated deduplication window). The tables are also
 * ReplacingMergeTrees keyed by event id (sessions: by key and version), so billing
 * queries with FINAL count every event once even when a crash replay re-batched rows.
 *
 * An unreachable ClickHouse asks the runtime to retry (the partition waits); a
 * refused insert is split in halves until the offending rows are found, and only
 * those are dead-lettered.
 */
import { createHash } from 'node:crypto';
import { QuartileError, messageOf } from '../../src/core/errors.ts';
import type { PipelineOutput } from '../../src/pipeline/pipeline-event.ts';
import type { Sink, WriteOutcome } from '../../src/pipeline/sink.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { CLICKHOUSE_SINK_DEFAULTS, type ClickHouseSinkConfig } from './config.ts';
import { decide } from './retry-policy.ts';
import { adEventRow, billableRow, sessionRow } from './rows.ts';

interface Insert {
  readonly table: string;
  /** Index in the batch of each row's output (for per-row dead letters). */
  readonly owners: number[];
  readonly rows: Array<Record<string, unknown>>;
  /** Identity of each row, for the deduplication token. */
  readonly ids: string[];
}

function token(table: string, ids: readonly string[]): string {
  return `${table}:${createHash('sha256').update(ids.join('\n')).digest('base64url').slice(0, 32)}`;
}

export class ClickHouseSink implements Sink {
  readonly name = 'clickhouse' as const;
  readonly #warehouse: Warehouse;
  readonly #config: ClickHouseSinkConfig;

  constructor(warehouse: Warehouse, config: ClickHouseSinkConfig = CLICKHOUSE_SINK_DEFAULTS) {
    this.#warehouse = warehouse;
    this.#config = config;
  }

  accepts(output: PipelineOutput): boolean {
    return output.kind === 'session' || output.event.routes.has('warehouse') || output.event.routes.has('billing');
  }

  #inserts(batch: readonly PipelineOutput[]): Insert[] {
    const c = this.#config;
    const events: Insert = { table: c.eventsTable, owners: [], rows: [], ids: [] };
    const billing: Insert = { table: c.billingTable, owners: [], rows: [], ids: [] };
    const sessions: Insert = { table: c.sessionsTable, owners: [], rows: [], ids: [] };
    batch.forEach((output, i) => {
      if (output.kind === 'session') {
        sessions.owners.push(i);
        sessions.rows.push(sessionRow(output.session));
        sessions.ids.push(`${output.session.adInstanceId}#${output.session.version}`);
        return;
      }
      const e = output.event.enriched!;
      // Source position, not event id: a replay of the same records yields the same token.
      const id = `${e.source.topic}/${e.source.partition}/${e.source.offset}`;
      if (output.event.routes.has('warehouse')) {
        events.owners.push(i);
        events.rows.push(adEventRow(e));
        events.ids.push(id);
      }
      if (output.event.routes.has('billing')) {
        billing.owners.push(i);
        billing.rows.push(billableRow(e));
        billing.ids.push(id);
      }
    });
    return [events, billing, sessions].filter((insert) => insert.rows.length > 0);
  }

  /** Inserts, splitting on a refused insert; returns the failed rows' owners. */
  async #insert(insert: Insert, failed: Map<number, QuartileError>): Promise<void> {
    try {
      await this.#warehouse.insert(insert.table, insert.rows, { deduplicationToken: token(insert.table, insert.ids) });
    } catch (error) {
      if (decide(error) === 'retry') throw error;
      if (insert.rows.length === 1) {
        failed.set(
          insert.owners[0]!,
          new QuartileError('SINK_CLICKHOUSE_ROW_REJECTED', `ClickHouse refused this row for ${insert.table}: ${messageOf(error)}`, { stage: 'sinks/clickhouse', cause: error }),
        );
        return;
      }
      const half = Math.ceil(insert.rows.length / 2);
      const part = (from: number, to: number): Insert => ({
        table: insert.table,
        owners: insert.owners.slice(from, to),
        rows: insert.rows.slice(from, to),
        ids: insert.ids.slice(from, to),
      });
      await this.#insert(part(0, half), failed);
      await this.#insert(part(half, insert.rows.length), failed);
    }
  }

  async write(batch: readonly PipelineOutput[]): Promise<WriteOutcome> {
    const failed = new Map<number, QuartileError>();
    try {
      for (const insert of this.#inserts(batch)) await this.#insert(insert, failed);
    } catch (error) {
      return {
        status: 'retry',
        error: new QuartileError('SINK_CLICKHOUSE_UNAVAILABLE', `ClickHouse insert failed: ${messageOf(error)}`, { retriable: true, stage: 'sinks/clickhouse', cause: error }),
      };
    }
    return failed.size === 0 ? { status: 'delivered' } : { status: 'partial', failed };
  }

  async close(): Promise<void> {}
}
