/**
 * Beacon outcomes on their way to `beacon_deliveries` (chDB): rows reach ClickHouse as
 * they were completed, values intact; writes that arrive together share one insert;
 * rows wait, none lost, while ClickHouse cannot take them; and outbox rows an earlier
 * version left in the state store (TabSeparated, or older JSON) are moved once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutcomeWriter, deliveryLines } from '../../../sinks/pixels/outcomes.ts';
import { utc } from '../../../sinks/clickhouse/rows.ts';
import { earlierKeys, type DeliveryRow } from '../../../sinks/pixels/ledger.ts';
import { BinarySealer } from '../../../sinks/pixels/beacon-batch.ts';
import { takeOverEarlierQueue } from '../../../sinks/pixels/upgrade.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { RecordCodec } from '../../../src/transport/avro/record-codec.ts';
import { EmbeddedTransport } from '../../../src/transport/embedded/embedded-transport.ts';
import { migrate } from '../../../src/warehouse/migrate.ts';
import { openWarehouse } from '../../../src/warehouse/open-warehouse.ts';
import type { Warehouse } from '../../../src/warehouse/warehouse.ts';

interface Stored {
  event_id: string;
  vendor: string;
  reason: string;
  http_status: number;
  attempts: number;
  latency_ms: number;
  completed_at: string;
}

describe('beacon outcomes → beacon_deliveries', () => {
  let dir: string;
  let warehouse: Warehouse;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quartile-outcomes-'));
    warehouse = await openWarehouse({ url: '', database: 'quartile', username: '', password: '', requestTimeoutMs: 30_000, chdbPath: dir });
    await migrate(warehouse);
  });
  after(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (vendor: string, reason: string, status: number, at: number): DeliveryRow => ({
    event_id: randomUUID(), vendor, event_type: 'impression', uri_hash: 'h1', outcome: status === 200 ? 'delivered' : 'failed', reason, http_status: status, attempts: 3, latency_ms: 41, completed_at: utc(at),
  });

  async function stored(ids: readonly string[]): Promise<Stored[]> {
    const list = ids.map((id) => `'${id}'`).join(',');
    const rows = await warehouse.query<Stored>(
      `SELECT toString(event_id) AS event_id, vendor, reason, http_status, attempts, latency_ms, toString(completed_at) AS completed_at FROM quartile.beacon_deliveries WHERE event_id IN (${list}) ORDER BY vendor, event_id`,
    );
    return rows.map((r) => ({ ...r, http_status: Number(r.http_status), attempts: Number(r.attempts), latency_ms: Number(r.latency_ms) }));
  }

  /** The warehouse, counting inserts, and refusing them while `down()` says so. */
  function counting(down: () => boolean): { warehouse: Warehouse; inserts: () => number } {
    let inserts = 0;
    const wrapped = Object.create(warehouse) as Warehouse;
    wrapped.insertTabSeparated = (...args) => {
      if (down()) return Promise.reject(new Error('connection refused'));
      inserts++;
      return warehouse.insertTabSeparated(...args);
    };
    return { warehouse: wrapped, inserts: () => inserts };
  }

  const expected = (rows: readonly DeliveryRow[], completedAt: string): Stored[] =>
    rows
      .map((r) => ({ event_id: r.event_id, vendor: r.vendor, reason: r.reason, http_status: r.http_status, attempts: 3, latency_ms: 41, completed_at: completedAt }))
      .sort((a, b) => (a.vendor === b.vendor ? a.event_id.localeCompare(b.event_id) : a.vendor < b.vendor ? -1 : 1));

  it('writes rows intact, and writes arriving together share one insert', async () => {
    const w = counting(() => false);
    const writer = new OutcomeWriter({ warehouse: w.warehouse, logger: silentLogger(), lingerMs: 50 });
    const at = Date.parse('2026-11-25T12:00:00.123Z');
    const batches = [[row('dv', '', 200, at), row('vendor\twith\\odd name', 'SINK_PIXEL_HTTP_4XX', 404, at)], [row('ias', '', 200, at)], [row('nielsen\n', '', 200, at)]];
    await Promise.all(batches.map((b) => writer.write(b)));
    const all = batches.flat();
    assert.deepEqual(await stored(all.map((r) => r.event_id)), expected(all, '2026-11-25 12:00:00.123'));
    assert.equal(w.inserts(), 1, 'one insert for the three writes');
    assert.equal(writer.pending, 0);
  });

  it('holds rows while ClickHouse refuses them, and writes them once it takes them', async () => {
    let down = true;
    const w = counting(() => down);
    const writer = new OutcomeWriter({ warehouse: w.warehouse, logger: silentLogger(), lingerMs: 10 });
    const rows = [row('dv', '', 200, Date.now()), row('ias', '', 200, Date.now())];
    let written = false;
    const writing = writer.write(rows).then(() => (written = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(written, false, 'not acknowledged while ClickHouse is down');
    assert.equal(writer.pending, 2, 'still held');
    assert.equal((await stored(rows.map((r) => r.event_id))).length, 0);
    down = false;
    await writing;
    assert.equal((await stored(rows.map((r) => r.event_id))).length, 2);
    assert.equal(w.inserts(), 1);
  });

  it('tries an insert whose acknowledgement was lost again as it was, so its rows count once, and newer rows go in the next one', async () => {
    let lose = 1;
    const tokens: string[] = [];
    const wrapped = Object.create(warehouse) as Warehouse;
    wrapped.insertTabSeparated = async (table, columns, lines, options) => {
      tokens.push(options?.deduplicationToken ?? '');
      await warehouse.insertTabSeparated(table, columns, lines, options);
      if (lose-- > 0) throw new Error('socket hang up'); // ClickHouse took it; the answer was lost
    };
    const writer = new OutcomeWriter({ warehouse: wrapped, logger: silentLogger(), lingerMs: 10 });
    const first = [row('dv', '', 200, Date.now()), row('ias', '', 200, Date.now())];
    const writing = writer.write(first);
    await new Promise((r) => setTimeout(r, 100)); // the first try failed; a newer write arrives before the retry
    const later = [row('nielsen', '', 200, Date.now())];
    await Promise.all([writing, writer.write(later)]);
    const rows = await stored([...first, ...later].map((r) => r.event_id));
    assert.equal(rows.length, 3, 'each row once: no merge has run, the retry was dropped by its token');
    assert.equal(tokens[0], tokens[1], 'the retry carries the first try\'s token');
    assert.equal(new Set(tokens).size, tokens.length - 1, 'every other insert has a token of its own');
    assert.equal(writer.pending, 0);
  });

  it('moves outbox rows an earlier version left in the state store, as lines or JSON, once', async () => {
    const state = new MemoryStateStore();
    const at = Date.parse('2026-11-25T12:00:00.123Z');
    const lines = [row('dv', '', 200, at), row('ias', 'SINK_PIXEL_HTTP_4XX', 404, at)];
    const jsonBatch = [row('nielsen', '', 200, at)];
    const jsonOne = row('other', '', 200, at);
    await state.sortedAdd(earlierKeys.outbox, [
      { member: deliveryLines(lines), score: at },
      { member: JSON.stringify(jsonBatch), score: at },
      { member: JSON.stringify(jsonOne), score: at },
    ]);
    const config = loadConfig({ env: { QUARTILE_PIXELS_QUEUE_KEY: randomBytes(32).toString('base64') } });
    const options = { state, transport: new EmbeddedTransport(), warehouse, codec: new RecordCodec(), sealer: new BinarySealer(randomBytes(32)), config, logger: silentLogger() };
    await takeOverEarlierQueue(options);
    await takeOverEarlierQueue(options); // nothing left: nothing written twice
    const all = [...lines, ...jsonBatch, jsonOne];
    assert.deepEqual(await stored(all.map((r) => r.event_id)), expected(all, '2026-11-25 12:00:00.123'));
    assert.equal((await state.sortedRange(earlierKeys.outbox, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).length, 0, 'the outbox is empty');
  });
});
