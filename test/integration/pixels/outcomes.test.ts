/**
 * The outcome outbox on its way to `beacon_deliveries` (embedded state store and
 * chDB): rows reach ClickHouse as they were completed, values intact; members an
 * earlier version wrote as JSON are still moved; a flush that runs again writes nothing
 * twice; and rows wait in the outbox, none lost, while ClickHouse cannot take them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutcomeFlusher, deliveryRow } from '../../../sinks/pixels/outcomes.ts';
import { keys, type DeliveryRow } from '../../../sinks/pixels/ledger.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
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

describe('beacon outcome outbox → beacon_deliveries', () => {
  let dir: string;
  let warehouse: Warehouse;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quartile-outbox-'));
    warehouse = await openWarehouse({ url: '', database: 'quartile', username: '', password: '', requestTimeoutMs: 30_000, chdbPath: dir });
    await migrate(warehouse);
  });
  after(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (vendor: string, reason: string, status: number, at: number): DeliveryRow =>
    deliveryRow({ event_id: randomUUID(), vendor, event_type: 'impression', uri_hash: 'h1', outcome: status === 200 ? 'delivered' : 'failed', reason, http_status: status, attempts: 3, latency_ms: 41 }, at);

  async function stored(ids: readonly string[]): Promise<Stored[]> {
    const list = ids.map((id) => `'${id}'`).join(',');
    const rows = await warehouse.query<Stored>(
      `SELECT toString(event_id) AS event_id, vendor, reason, http_status, attempts, latency_ms, toString(completed_at) AS completed_at FROM quartile.beacon_deliveries WHERE event_id IN (${list}) ORDER BY vendor, event_id`,
    );
    return rows.map((r) => ({ ...r, http_status: Number(r.http_status), attempts: Number(r.attempts), latency_ms: Number(r.latency_ms) }));
  }

  it('moves its rows, and rows an earlier version wrote as JSON, intact and once', async () => {
    const state = new MemoryStateStore();
    const flusher = new OutcomeFlusher({ state, warehouse, logger: silentLogger(), owner: 'test' });
    const at = Date.parse('2026-11-25T12:00:00.123Z');
    const batch = [row('dv', '', 200, at), row('vendor\twith\\odd name', 'SINK_PIXEL_HTTP_4XX', 404, at)];
    await flusher.add(batch);
    const earlierBatch = [row('ias', 'SINK_PIXEL_RETRIES_EXHAUSTED', 503, at)];
    const earlierOne = row('nielsen', '', 200, at);
    await state.sortedAdd(keys.outbox, [{ member: JSON.stringify(earlierBatch), score: at }, { member: JSON.stringify(earlierOne), score: at }]);
    assert.equal(flusher.unflushed, 2);

    await flusher.flush();
    await flusher.flush(); // nothing left: nothing written twice
    const all = [...batch, ...earlierBatch, earlierOne];
    const found = await stored(all.map((r) => r.event_id));
    const expected = all
      .map((r) => ({ event_id: r.event_id, vendor: r.vendor, reason: r.reason, http_status: r.http_status, attempts: 3, latency_ms: 41, completed_at: '2026-11-25 12:00:00.123' }))
      .sort((a, b) => (a.vendor === b.vendor ? a.event_id.localeCompare(b.event_id) : a.vendor < b.vendor ? -1 : 1));
    assert.deepEqual(found, expected);
    assert.equal((await state.sortedRange(keys.outbox, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).length, 0, 'the outbox is empty');
    assert.equal(flusher.unflushed, 0);
  });

  it('keeps rows in the outbox while ClickHouse refuses them, and moves them once it takes them', async () => {
    const state = new MemoryStateStore();
    let down = true;
    const flaky: Warehouse = {
      ...warehouse,
      kind: warehouse.kind,
      database: warehouse.database,
      insertTabSeparated: (...args) => (down ? Promise.reject(new Error('connection refused')) : warehouse.insertTabSeparated(...args)),
    } as Warehouse;
    const flusher = new OutcomeFlusher({ state, warehouse: flaky, logger: silentLogger(), owner: 'test' });
    const rows = [row('dv', '', 200, Date.now()), row('ias', '', 200, Date.now())];
    await flusher.add(rows);
    await flusher.flush();
    assert.equal((await stored(rows.map((r) => r.event_id))).length, 0);
    assert.equal((await state.sortedRange(keys.outbox, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).length, 1, 'still in the outbox');
    assert.equal(flusher.unflushed, 2, 'still counted for backpressure');
    down = false;
    await flusher.flush();
    assert.equal((await stored(rows.map((r) => r.event_id))).length, 2);
    assert.equal(flusher.unflushed, 0);
  });
});
