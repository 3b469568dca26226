/**
 * The ClickHouse sink: enriched events into `ad_events`, impressions also into
 * `billable_impressions`, closed sessions into `ad_sessions`.
 *
 * Rows are encoded once, here, as TabSeparated lines (see rows.ts), and inserted as
 * text. Inserts are batched by rows, bytes and time across the pipeline's partitions
 * (see insert-coalescer.ts): inserts into a table start at least
 * `clickhouse.batchLingerMs` apart, and the writes that arrive meanwhile go out
 * together.
 *
 * Every insert carries an `insert_deduplication_token` derived from the table and the
 * source positions (topic, partition, offset) of its rows, in order (sessions: their
 * keys and versions), so a retried insert of the same rows is ignored by ClickHouse
 * (the tables keep a non-replicated deduplication window). A batch the runtime retries
 * may be combined with other writes than the first time, so its token can differ:
 * that is why the tables are also ReplacingMergeTrees keyed by event id (sessions: by
 * key and version), and billing queries with FINAL count every event once whatever
 * the batching was.
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
import { InsertCoalescer, type CombinedInsert } from './insert-coalescer.ts';
import { AD_EVENTS, AD_SESSIONS, BILLABLE_IMPRESSIONS } from './rows.ts';

interface Insert {
  readonly table: string;
  /** Index in the batch of each row's output (for per-row dead letters). */
  readonly owners: number[];
  /** One TabSeparated line per row. */
  readonly lines: string[];
  /** Identity of each row, for the deduplication token. */
  readonly ids: string[];
  /** Bytes of the lines. */
  bytes: number;
}

function token(table: string, ids: readonly string[]): string {
  return `${table}:${createHash('sha256').update(ids.join('\n')).digest('base64url').slice(0, 32)}`;
}

export class ClickHouseSink implements Sink {
  readonly name = 'clickhouse' as const;
  readonly #warehouse: Warehouse;
  readonly #config: ClickHouseSinkConfig;

  readonly #coalescer: InsertCoalescer<QuartileError>;
  /** Each table's columns, in the order of its lines. */
  readonly #columns: ReadonlyMap<string, readonly string[]>;

  constructor(warehouse: Warehouse, config: ClickHouseSinkConfig = CLICKHOUSE_SINK_DEFAULTS) {
    this.#warehouse = warehouse;
    this.#config = config;
    this.#coalescer = new InsertCoalescer((insert) => this.#insert(insert), config.batch);
    this.#columns = new Map([
      [config.eventsTable, AD_EVENTS.columns],
      [config.billingTable, BILLABLE_IMPRESSIONS.columns],
      [config.sessionsTable, AD_SESSIONS.columns],
    ]);
  }

  accepts(output: PipelineOutput): boolean {
    return output.kind === 'session' || output.event.routes.has('warehouse') || output.event.routes.has('billing');
  }

  #inserts(batch: readonly PipelineOutput[]): Insert[] {
    const c = this.#config;
    const events: Insert = { table: c.eventsTable, owners: [], lines: [], ids: [], bytes: 0 };
    const billing: Insert = { table: c.billingTable, owners: [], lines: [], ids: [], bytes: 0 };
    const sessions: Insert = { table: c.sessionsTable, owners: [], lines: [], ids: [], bytes: 0 };
    const add = (insert: Insert, owner: number, line: string, id: string): void => {
      insert.owners.push(owner);
      insert.lines.push(line);
      insert.ids.push(id);
      insert.bytes += line.length;
    };
    batch.forEach((output, i) => {
      if (output.kind === 'session') {
        add(sessions, i, AD_SESSIONS.line(output.session), `${output.session.adInstanceId}#${output.session.version}`);
        return;
      }
      const e = output.event.enriched!;
      // Source position, not event id: a replay of the same records yields the same token.
      const id = `${e.source.topic}/${e.source.partition}/${e.source.offset}`;
      if (output.event.routes.has('warehouse')) add(events, i, AD_EVENTS.line(e), id);
      if (output.event.routes.has('billing')) add(billing, i, BILLABLE_IMPRESSIONS.line(e), id);
    });
    return [events, billing, sessions].filter((insert) => insert.lines.length > 0);
  }

  /**
   * Runs one combined insert, halving a refused one until the refusing rows are found;
   * returns those rows. A retriable error is thrown: no row is at fault.
   */
  async #insert(insert: CombinedInsert): Promise<Array<{ write: number; index: number; failure: QuartileError }>> {
    try {
      await this.#warehouse.insertTabSeparated(insert.table, this.#columns.get(insert.table)!, insert.lines.join(''), {
        deduplicationToken: token(insert.table, insert.ids),
      });
      return [];
    } catch (error) {
      if (decide(error) === 'retry') throw error;
      if (insert.lines.length === 1) {
        const failure = new QuartileError('SINK_CLICKHOUSE_ROW_REJECTED', `ClickHouse refused this row for ${insert.table}: ${messageOf(error)}`, {
          stage: 'sinks/clickhouse',
          cause: error,
        });
        return [{ ...insert.owners[0]!, failure }];
      }
      const half = Math.ceil(insert.lines.length / 2);
      const part = (from: number, to: number): CombinedInsert => ({
        table: insert.table,
        owners: insert.owners.slice(from, to),
        lines: insert.lines.slice(from, to),
        ids: insert.ids.slice(from, to),
      });
      return [...(await this.#insert(part(0, half))), ...(await this.#insert(part(half, insert.lines.length)))];
    }
  }

  async write(batch: readonly PipelineOutput[]): Promise<WriteOutcome> {
    const inserts = this.#inserts(batch);
    // The runtime writes one partition's batch at a time: the partition is the writer the
    // coalescer waits for (see its pacing).
    const first = batch[0];
    const writer = first === undefined ? undefined : String(first.kind === 'event' ? first.event.source.record.partition : first.partition);
    // Every table's rows are queued before any answer is awaited, so the three tables'
    // inserts of a batch go out together.
    const results = await Promise.allSettled(
      inserts.map(async (insert) => {
        const failures = await this.#coalescer.add(insert.table, { lines: insert.lines, ids: insert.ids, bytes: insert.bytes }, writer);
        return failures.map(({ index, failure }) => [insert.owners[index]!, failure] as const);
      }),
    );
    const failed = new Map<number, QuartileError>();
    for (const result of results) {
      if (result.status === 'rejected') {
        return {
          status: 'retry',
          error: new QuartileError('SINK_CLICKHOUSE_UNAVAILABLE', `ClickHouse insert failed: ${messageOf(result.reason)}`, {
            retriable: true,
            stage: 'sinks/clickhouse',
            cause: result.reason,
          }),
        };
      }
      for (const [owner, failure] of result.value) failed.set(owner, failure);
    }
    return failed.size === 0 ? { status: 'delivered' } : { status: 'partial', failed };
  }

  async close(): Promise<void> {}
}
