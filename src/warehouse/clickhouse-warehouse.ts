/**
 * One Warehouse implementation over @clickhouse/client, whatever the connection
 * underneath: HTTP to a ClickHouse server, or a chDB in-process connection.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { QuartileError, messageOf } from '../core/errors.ts';
import type { InsertOptions, Warehouse } from './warehouse.ts';

/** Names are interpolated into SQL, so only plain identifiers are accepted. */
export function assertIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new QuartileError('CONFIG_INVALID_VALUE', `"${name}" is not a valid ClickHouse identifier (letters, digits and _ only).`);
  }
  return name;
}

/** True for errors that say the server could not be reached, as opposed to a bad statement. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(code)
  ) || /timeout|socket hang up|ECONNREFUSED/i.test(messageOf(error));
}

/** The client settings of an insert: its deduplication token, when it has one. */
function insertSettings(options: InsertOptions): { clickhouse_settings?: { insert_deduplication_token: string } } {
  return options.deduplicationToken === undefined ? {} : { clickhouse_settings: { insert_deduplication_token: options.deduplicationToken } };
}

export class ClickHouseWarehouse implements Warehouse {
  readonly kind: 'clickhouse' | 'chdb';
  readonly database: string;
  readonly #client: ClickHouseClient;
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(kind: 'clickhouse' | 'chdb', client: ClickHouseClient, database: string, onClose?: () => Promise<void>) {
    this.kind = kind;
    this.#client = client;
    this.database = assertIdentifier(database);
    this.#onClose = onClose;
  }

  #fail(what: string, cause: unknown): QuartileError {
    if (isConnectionError(cause)) {
      return new QuartileError('WAREHOUSE_UNAVAILABLE', `ClickHouse ${what} failed: ${messageOf(cause)}`, { retriable: true, cause });
    }
    return new QuartileError('WAREHOUSE_QUERY_FAILED', `ClickHouse ${what} failed: ${messageOf(cause)}`, { cause });
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Readonly<Record<string, unknown>>): Promise<T[]> {
    try {
      const result = await this.#client.query({ query: sql, format: 'JSONEachRow', ...(params === undefined ? {} : { query_params: { ...params } }) });
      return await result.json<T>();
    } catch (cause) {
      throw this.#fail('query', cause);
    }
  }

  async command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void> {
    try {
      await this.#client.command({ query: sql, ...(params === undefined ? {} : { query_params: { ...params } }) });
    } catch (cause) {
      throw this.#fail('command', cause);
    }
  }

  async insert(table: string, rows: readonly Readonly<Record<string, unknown>>[], options: InsertOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.#client.insert({
        table: `${this.database}.${assertIdentifier(table)}`,
        values: rows as Array<Record<string, unknown>>,
        format: 'JSONEachRow',
        ...insertSettings(options),
      });
    } catch (cause) {
      throw this.#fail(`insert into ${table}`, cause);
    }
  }

  async insertTabSeparated(table: string, columns: readonly string[], lines: string, options: InsertOptions = {}): Promise<void> {
    if (lines.length === 0) return;
    try {
      await this.#client.insert({
        table: `${this.database}.${assertIdentifier(table)}`,
        values: Readable.from([lines], { objectMode: false }),
        format: 'TabSeparated',
        columns: columns.map(assertIdentifier) as [string, ...string[]],
        ...insertSettings(options),
      });
    } catch (cause) {
      throw this.#fail(`insert into ${table}`, cause);
    }
  }

  async ping(): Promise<void> {
    let result;
    try {
      result = await this.#client.ping();
    } catch (cause) {
      throw this.#fail('ping', cause);
    }
    if (!result.success) {
      throw new QuartileError('WAREHOUSE_UNAVAILABLE', `ClickHouse ping failed: ${messageOf(result.error)}`, { retriable: true, cause: result.error });
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
    await this.#onClose?.();
  }
}
