/**
 * The warehouse contract: one suite, run against chDB (ClickHouse's engine
 * in-process) and, where the SQL allows, against a ClickHouse server over HTTP.
 *
 * Debian's clickhouse-server is 18.16 (2018): no query parameters, no
 * insert_deduplication_token. With it the suite runs the HTTP-transport smoke subset;
 * the full suite runs on chDB. A server of 22.x or later runs the full suite.
 * `quartile warehouse serve` (chDB shared over ClickHouse's HTTP interface) runs the
 * full suite too, in a child process, as the processes of one machine use it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { openWarehouse } from '../../../src/warehouse/open-warehouse.ts';
import { tsvLine } from '../../../src/warehouse/tsv.ts';
import type { Warehouse } from '../../../src/warehouse/warehouse.ts';
import { isQuartileError } from '../../../src/core/errors.ts';
import { service } from '../../helpers/services.ts';
import { uniqueName } from '../../helpers/wait.ts';
import { startWarehouseServer } from '../../helpers/engine-process.ts';

const clickhouse = service('clickhouse');
const chdbDir = mkdtempSync(join(tmpdir(), 'quartile-chdb-'));

const backends = [
  { name: 'chdb', skip: false as string | false, url: '', serve: false },
  { name: 'clickhouse server', skip: clickhouse.skip, url: clickhouse.url ?? '', serve: false },
  { name: 'chdb over quartile warehouse serve', skip: false as string | false, url: '', serve: true },
];

async function serverMajor(warehouse: Warehouse): Promise<number> {
  const [row] = await warehouse.query<{ v: string }>('SELECT version() AS v');
  return Number(row!.v.split('.')[0]);
}

after(() => rmSync(chdbDir, { recursive: true, force: true }));

for (const backend of backends) {
  describe(`warehouse contract: ${backend.name}`, { skip: backend.skip }, () => {
    let warehouse: Warehouse;
    let modern = true;
    const database = uniqueName('contract').replace(/-/g, '_');

    let server: ChildProcess | undefined;

    before(async () => {
      let url = backend.url;
      if (backend.serve) {
        const started = await startWarehouseServer(join(chdbDir, 'served'));
        url = started.url;
        server = started.child;
      }
      warehouse = await openWarehouse({
        url,
        database,
        username: 'default',
        password: '',
        requestTimeoutMs: 30_000,
        chdbPath: join(chdbDir, 'chdb'),
      });
      modern = (await serverMajor(warehouse)) >= 22;
    });
    after(async () => {
      await warehouse.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
      await warehouse.close();
      server?.kill('SIGTERM');
    });

    it('answers a ping and creates its database', async () => {
      await warehouse.ping();
      const rows = await warehouse.query<{ name: string }>(`SELECT name FROM system.databases WHERE name = '${database}'`);
      assert.equal(rows.length, 1);
    });

    it('inserts rows and reads them back with 64-bit precision and NULLs intact', async () => {
      await warehouse.command(
        `CREATE TABLE ${database}.t_rows (id UInt64, name Nullable(String), n Int64) ENGINE = MergeTree ORDER BY id`,
      );
      await warehouse.insert('t_rows', [
        { id: '18446744073709551615', name: null, n: '-9223372036854775808' },
        { id: 1, name: 'one', n: 9007199254740993n.toString() },
      ]);
      const rows = await warehouse.query<{ id: string; name: string | null; n: string }>(
        `SELECT toString(id) AS id, name, toString(n) AS n FROM ${database}.t_rows ORDER BY id`,
      );
      assert.deepEqual(rows, [
        { id: '1', name: 'one', n: '9007199254740993' },
        { id: '18446744073709551615', name: null, n: '-9223372036854775808' },
      ]);
    });

    it('inserts TabSeparated lines as written, with every escape read back', async () => {
      await warehouse.command(`CREATE TABLE ${database}.t_tsv (id UInt32, s String, n UInt16) ENGINE = MergeTree ORDER BY id`);
      const awkward = "tab\there, line\nfeed, back\\slash, cr\r, nul\0, quote' and ümlaut";
      const lines = [tsvLine({ id: 1, s: awkward, n: 200 }, ['id', 's', 'n']), tsvLine({ n: 0, s: '', id: 2 }, ['id', 's', 'n'])].join('');
      await warehouse.insertTabSeparated('t_tsv', ['id', 's', 'n'], lines);
      const rows = await warehouse.query<{ id: number; s: string; n: number }>(`SELECT id, s, n FROM ${database}.t_tsv ORDER BY id`);
      assert.deepEqual(rows.map((r) => [Number(r.id), r.s, Number(r.n)]), [
        [1, awkward, 200],
        [2, '', 0],
      ]);
    });

    it('binds query parameters', { skip: false }, async (t) => {
      if (!modern) return t.skip('this ClickHouse server predates query parameters (the full suite runs on chDB)');
      const rows = await warehouse.query<{ x: number; s: string }>('SELECT {x:UInt32} + 1 AS x, {s:String} AS s', { x: 41, s: "it's" });
      assert.deepEqual(rows, [{ x: 42, s: "it's" }]);
    });

    it('ignores a retried insert that carries the same deduplication token', async (t) => {
      if (!modern) return t.skip('this ClickHouse server predates insert_deduplication_token (the full suite runs on chDB)');
      await warehouse.command(
        `CREATE TABLE ${database}.t_dedup (event_id String) ENGINE = MergeTree ORDER BY event_id SETTINGS non_replicated_deduplication_window = 1000`,
      );
      const batch = [{ event_id: 'e1' }, { event_id: 'e2' }];
      await warehouse.insert('t_dedup', batch, { deduplicationToken: 'raw/0/10-11' });
      await warehouse.insert('t_dedup', batch, { deduplicationToken: 'raw/0/10-11' });
      await warehouse.insert('t_dedup', [{ event_id: 'e3' }], { deduplicationToken: 'raw/0/12-12' });
      const [row] = await warehouse.query<{ c: string }>(`SELECT count() AS c FROM ${database}.t_dedup`);
      assert.equal(Number(row!.c), 3);
    });

    it('applies a deduplication token to its own insert only', async (t) => {
      if (!modern) return t.skip('this ClickHouse server predates insert_deduplication_token (the full suite runs on chDB)');
      await warehouse.command(
        `CREATE TABLE ${database}.t_token_scope (event_id String) ENGINE = MergeTree ORDER BY event_id SETTINGS non_replicated_deduplication_window = 1000`,
      );
      await warehouse.insertTabSeparated('t_token_scope', ['event_id'], 'e1\n', { deduplicationToken: 'raw/1/1-1' });
      // Neither insert carries a token: neither may be taken for a retry of the first.
      await warehouse.insertTabSeparated('t_token_scope', ['event_id'], 'e2\n');
      await warehouse.insert('t_token_scope', [{ event_id: 'e3' }]);
      await warehouse.insertTabSeparated('t_token_scope', ['event_id'], 'e1\n', { deduplicationToken: 'raw/1/1-1' });
      const rows = await warehouse.query<{ event_id: string }>(`SELECT event_id FROM ${database}.t_token_scope ORDER BY event_id`);
      assert.deepEqual(rows.map((r) => r.event_id), ['e1', 'e2', 'e3']);
    });

    it('reports a bad statement as a non-retriable query failure', async () => {
      await assert.rejects(warehouse.query('SELEC nonsense'), (error: unknown) => {
        assert.ok(isQuartileError(error, 'WAREHOUSE_QUERY_FAILED'));
        assert.equal(error.retriable, false);
        return true;
      });
    });

    if (backend.name === 'chdb') {
      it('refuses a second process on the same data directory, naming it', () => {
        const script = `
          import { openWarehouse } from './src/warehouse/open-warehouse.ts';
          try {
            await openWarehouse({ url: '', database: 'x', username: 'default', password: '', requestTimeoutMs: 5000, chdbPath: process.argv[1] });
            console.log('OPENED');
          } catch (e) { console.log(e.code + ' ' + e.message); }
        `;
        const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(chdbDir, 'chdb')], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.match(child.stdout, /WAREHOUSE_DATA_DIR_LOCKED/);
        assert.ok(child.stdout.includes(join(chdbDir, 'chdb')), child.stdout + child.stderr);
      });
    }
  });
}
