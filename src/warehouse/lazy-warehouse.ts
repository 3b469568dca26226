/**
 * A warehouse that connects on first use. Roles that never touch ClickHouse (the
 * collector, the Ads Manager) then never open it, which matters for chDB: only one
 * data directory can be open per process, and one process owns a directory.
 */
import type { InsertOptions, Warehouse } from './warehouse.ts';

export class LazyWarehouse implements Warehouse {
  readonly kind: 'clickhouse' | 'chdb';
  readonly database: string;
  readonly #open: () => Promise<Warehouse>;
  #warehouse: Promise<Warehouse> | undefined;

  constructor(kind: 'clickhouse' | 'chdb', database: string, open: () => Promise<Warehouse>) {
    this.kind = kind;
    this.database = database;
    this.#open = open;
  }

  #get(): Promise<Warehouse> {
    this.#warehouse ??= this.#open().catch((error: unknown) => {
      this.#warehouse = undefined; // a later call may succeed (ClickHouse came back)
      throw error;
    });
    return this.#warehouse;
  }

  /** True once something used the warehouse. */
  get opened(): boolean {
    return this.#warehouse !== undefined;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Readonly<Record<string, unknown>>): Promise<T[]> {
    return (await this.#get()).query<T>(sql, params);
  }

  async command(sql: string, params?: Readonly<Record<string, unknown>>): Promise<void> {
    return (await this.#get()).command(sql, params);
  }

  async insert(table: string, rows: readonly Readonly<Record<string, unknown>>[], options?: InsertOptions): Promise<void> {
    return (await this.#get()).insert(table, rows, options);
  }

  async insertTabSeparated(table: string, columns: readonly string[], lines: string, options?: InsertOptions): Promise<void> {
    return (await this.#get()).insertTabSeparated(table, columns, lines, options);
  }

  async ping(): Promise<void> {
    return (await this.#get()).ping();
  }

  async close(): Promise<void> {
    const warehouse = this.#warehouse;
    this.#warehouse = undefined;
    if (warehouse !== undefined) await (await warehouse.catch(() => undefined))?.close();
  }
}
