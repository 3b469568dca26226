/**
 * Opens the warehouse the config asks for: a ClickHouse server when
 * `clickhouse.url` is set, otherwise chDB in `dataDir/chdb`. Creates the database.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { QuartileError, isQuartileError, messageOf } from '../core/errors.ts';
import { scopeChdbSettings } from './chdb-settings.ts';
import { ClickHouseWarehouse, assertIdentifier } from './clickhouse-warehouse.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { Warehouse } from './warehouse.ts';

/** Where and how to connect. */
export interface WarehouseOptions {
  /** ClickHouse HTTP URL; empty selects chDB. */
  readonly url: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly requestTimeoutMs: number;
  /** chDB data directory (used when `url` is empty). */
  readonly chdbPath: string;
}

async function openServer(options: WarehouseOptions): Promise<Warehouse> {
  const database = assertIdentifier(options.database);
  // No default database on the client: Quartile's SQL always names `database.table`,
  // so the client works before the database exists, and start-up does not fail
  // while ClickHouse is down (/readyz reports it instead).
  const client = createClient({
    url: options.url,
    username: options.username,
    password: options.password,
    request_timeout: options.requestTimeoutMs,
    application: 'quartile',
    // Failures reach Quartile as errors with context and are logged once, by Quartile.
    log: { level: ClickHouseLogLevel.OFF },
  });
  const warehouse = new ClickHouseWarehouse('clickhouse', client, database);
  await warehouse.command(`CREATE DATABASE IF NOT EXISTS ${database}`).catch((error: unknown) => {
    if (!isQuartileError(error, 'WAREHOUSE_UNAVAILABLE')) throw error;
  });
  return warehouse;
}

/** A chDB session on a data directory, locked to this process. */
export interface ChdbSession {
  readonly connection: import('chdb/connection').ChdbConnection;
  readonly path: string;
  /** Releases the data directory lock (after closing the connection). */
  readonly unlock: () => void;
}

/** Opens chDB on `chdbPath`, taking Quartile's lock on the directory. */
export async function openChdbSession(chdbPath: string): Promise<ChdbSession> {
  const path = resolve(chdbPath);
  let chdb: typeof import('chdb/connection');
  try {
    chdb = await import('chdb/connection');
  } catch (cause) {
    throw new QuartileError(
      'WAREHOUSE_UNAVAILABLE',
      'The embedded warehouse needs the optional package chdb, which is not installed. Run `npm install chdb`, or set QUARTILE_CLICKHOUSE_URL to use a ClickHouse server.',
      { cause },
    );
  }
  mkdirSync(path, { recursive: true });
  const unlock = lockDataDir(path);
  try {
    // Settings are scoped to their statement, as on a server (see chdb-settings.ts).
    return { connection: scopeChdbSettings(chdb.createChdbConnection({ path })), path, unlock };
  } catch (cause) {
    unlock();
    const text = `${messageOf(cause)} ${messageOf((cause as { cause?: unknown }).cause ?? '')}`;
    if (/lock|already running|another/i.test(text)) {
      throw new QuartileError(
        'WAREHOUSE_DATA_DIR_LOCKED',
        `The embedded ClickHouse data directory ${path} is in use by another Quartile process. Stop that process, or give this one its own QUARTILE_DATA_DIR.`,
        { cause },
      );
    }
    throw new QuartileError('WAREHOUSE_UNAVAILABLE', `Cannot open chDB in ${path}: ${text}`, { cause });
  }
}

async function openChdb(options: WarehouseOptions): Promise<Warehouse> {
  const database = assertIdentifier(options.database);
  const { connection, unlock } = await openChdbSession(options.chdbPath);
  // chdb bundles its own copy of @clickhouse/client-common's types; the runtime
  // contract is the same, the declarations are nominally different.
  type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
  const client = createClient({
    connection: connection as unknown as ClientConnection,
    request_timeout: options.requestTimeoutMs,
    log: { level: ClickHouseLogLevel.OFF },
  });
  const warehouse = new ClickHouseWarehouse('chdb', client, database, async () => unlock());
  await warehouse.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  return warehouse;
}

/** Opens the configured warehouse and makes sure its database exists. */
export function openWarehouse(options: WarehouseOptions): Promise<Warehouse> {
  return options.url === '' ? openChdb(options) : openServer(options);
}
