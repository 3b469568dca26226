/**
 * The ClickHouse sink's group commit: a lone write goes out at once; writes that
 * arrive while an insert runs go out together; each write learns only its own rows'
 * fate; limits split between writes, never inside one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InsertCoalescer, type CombinedInsert, type PendingRows } from '../../../sinks/clickhouse/insert-coalescer.ts';

const rows = (prefix: string, n: number): PendingRows => ({
  rows: Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` })),
  ids: Array.from({ length: n }, (_, i) => `${prefix}${i}`),
  bytes: n * 10,
});

/** A warehouse whose inserts finish when the test says so. */
function gatedWarehouse(refuse: (row: Record<string, unknown>) => boolean = () => false) {
  const inserts: CombinedInsert[] = [];
  const gates: Array<(error?: Error) => void> = [];
  const run = (insert: CombinedInsert) =>
    new Promise<Array<{ write: number; index: number; failure: string }>>((resolve, reject) => {
      inserts.push(insert);
      gates.push((error) => {
        if (error !== undefined) return reject(error);
        resolve(insert.owners.flatMap((owner, i) => (refuse(insert.rows[i]!) ? [{ ...owner, failure: `refused ${String(insert.rows[i]!['id'])}` }] : [])));
      });
    });
  return { inserts, gates, run };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ClickHouse insert coalescer', () => {
  it('sends a lone write at once, and writes queued behind a running insert together', async () => {
    const w = gatedWarehouse();
    const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 0 });
    const first = c.add('ad_events', rows('a', 3));
    await tick();
    assert.equal(w.inserts.length, 1, 'nothing waits for company when nothing is in flight');
    const second = c.add('ad_events', rows('b', 2));
    const third = c.add('ad_events', rows('c', 4));
    const otherTable = c.add('ad_sessions', rows('s', 1));
    await tick();
    assert.equal(w.inserts.length, 2, 'the other table does not wait for this one');
    assert.equal(w.inserts[1]!.table, 'ad_sessions');
    w.gates[0]!();
    w.gates[1]!();
    assert.deepEqual(await first, []);
    assert.deepEqual(await otherTable, []);
    await tick();
    assert.equal(w.inserts.length, 3);
    assert.deepEqual(w.inserts[2]!.ids, ['b0', 'b1', 'c0', 'c1', 'c2', 'c3'], 'the two queued writes go out as one insert');
    w.gates[2]!();
    assert.deepEqual([await second, await third], [[], []]);
  });

  it('tells each write of a combined insert only about its own refused rows', async () => {
    const w = gatedWarehouse((row) => row['id'] === 'c2' || row['id'] === 'b0');
    const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 0 });
    const first = c.add('t', rows('a', 1));
    await tick();
    const second = c.add('t', rows('b', 2));
    const third = c.add('t', rows('c', 3));
    w.gates[0]!();
    await first;
    await tick();
    w.gates[1]!();
    assert.deepEqual(await second, [{ index: 0, failure: 'refused b0' }]);
    assert.deepEqual(await third, [{ index: 2, failure: 'refused c2' }]);
  });

  it('fails every write of an insert that must be retried, and only those', async () => {
    const w = gatedWarehouse();
    const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 0 });
    const first = c.add('t', rows('a', 1));
    await tick();
    const second = c.add('t', rows('b', 1));
    const third = c.add('t', rows('c', 1));
    w.gates[0]!(new Error('ClickHouse is down'));
    await assert.rejects(first, /down/);
    await tick();
    w.gates[1]!(new Error('still down'));
    await assert.rejects(second, /still down/);
    await assert.rejects(third, /still down/);
    // The table is usable again afterwards.
    const fourth = c.add('t', rows('d', 1));
    await tick();
    w.gates[2]!();
    assert.deepEqual(await fourth, []);
  });

  it('splits queued writes by rows and bytes, never inside a write', async () => {
    const w = gatedWarehouse();
    const c = new InsertCoalescer(w.run, { maxRows: 5, maxBytes: 1 << 20, lingerMs: 0 });
    const first = c.add('t', rows('a', 1));
    await tick();
    const queued = [c.add('t', rows('b', 3)), c.add('t', rows('c', 2)), c.add('t', rows('d', 7)), c.add('t', rows('e', 1))];
    for (let i = 0; i < 4; i++) {
      w.gates[i]!();
      await tick();
      await tick();
    }
    await first;
    await Promise.all(queued);
    assert.deepEqual(
      w.inserts.map((i) => i.rows.length),
      [1, 5, 7, 1],
      'b+c fill 5 rows; d (7 rows) goes alone, whole; e follows',
    );
    const bytes = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 25, lingerMs: 0 });
    w.inserts.length = 0;
    w.gates.length = 0;
    const lone = bytes.add('t', rows('f', 1));
    await tick();
    const more = [bytes.add('t', rows('g', 2)), bytes.add('t', rows('h', 1))];
    w.gates[0]!();
    await lone;
    await tick();
    w.gates[1]!();
    await tick();
    await tick();
    w.gates[2]!();
    await Promise.all(more);
    assert.deepEqual(w.inserts.map((i) => i.rows.length), [1, 2, 1], '20 + 10 bytes exceed 25: two inserts');
  });

  it('waits lingerMs for company when asked to', async () => {
    const w = gatedWarehouse();
    const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 30 });
    const first = c.add('t', rows('a', 1));
    await tick();
    assert.equal(w.inserts.length, 0);
    const second = c.add('t', rows('b', 1));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(w.inserts.length, 1);
    assert.deepEqual(w.inserts[0]!.ids, ['a0', 'b0']);
    w.gates[0]!();
    assert.deepEqual([await first, await second], [[], []]);
  });
});
