/**
 * The warehouse seam: ClickHouse. A ClickHouse server over HTTP in production, or
 * chDB (ClickHouse's engine in-process) on one machine. Both are driven through the
 * official @clickhouse/client, so the SQL and the client behaviour are the same.
 */

/** Options for an insert. */
export interface InsertOptions {
  /**
   * ClickHouse `insert_deduplication_token`: a retried insert with the same token is
   * ignored by MergeTree tables that keep a deduplication window.
   */
  readonly deduplicationToken?: string;
}

/** The warehouse seam. */
export interface Warehouse {
  readonly kind: 'clickhouse' | 'chdb';
  /** The database holding Quartile's tables (created on connect). */
  readonly database: string;
  /** Runs a SELECT and returns its rows (JSONEachRow). `{name:Type}` placeholders bind `params`. */
  query<T = Record<string, unknown>>(sql: string, params?: Readonly<Record<string, unknown>>): Promise<T[]>;
  /** Runs a statement with no result (DDL, mutations). */
  command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void>;
  /** Inserts rows as JSONEachRow into a table of `database`. */
  insert(table: string, rows: readonly Readonly<Record<string, unknown>>[], options?: InsertOptions): Promise<void>;
  /**
   * Inserts rows already encoded as TabSeparated (one line per row, `columns` in this
   * order; see tsv.ts): for high-volume rows that were encoded once when made, so
   * neither JSON nor row objects are built again, and ClickHouse parses the cheaper format.
   */
  insertTabSeparated(table: string, columns: readonly string[], lines: string, options?: InsertOptions): Promise<void>;
  /** Throws WAREHOUSE_UNAVAILABLE when ClickHouse cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
