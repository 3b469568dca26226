/**
 * The ClickHouse sink's group commit and pacing: a lone write into an idle table goes
 * out at once; writes that arrive while an insert runs, or within the interval since
 * the last insert started, go out together; each write learns only its own rows'
 * fate; limits split between writes, never inside one. Pacing runs on a fake clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InsertCoalescer, type CoalescerClock, type CombinedInsert, type PendingRows } from '../../../sinks/clickhouse/insert-coalescer.ts';

const rows = (prefix: string, n: number): PendingRows => ({
  lines: Array.from({ length: n }, (_, i) => `${prefix}${i}\n`),
  ids: Array.from({ length: n }, (_, i) => `${prefix}${i}`),
  bytes: n * 10,
});

/** A clock that moves only when the test says so. */
function fakeClock(start = 10_000): CoalescerClock & { advance(ms: number): void; timers(): number } {
  let now = start;
  let timers: Array<{ at: number; run: () => void }> = [];
  return {
    now: () => now,
    setTimeout: (run, ms) => void timers.push({ at: now + ms, run }),
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.run();
    },
    timers: () => timers.length,
  };
}

/** A warehouse whose inserts finish when the test says so. */
function gatedWarehouse(refuse: (id: string) => boolean = () => false) {
  const inserts: CombinedInsert[] = [];
  const gates: Array<(error?: Error) => void> = [];
  const run = (insert: CombinedInsert) =>
    new Promise<Array<{ write: number; index: number; failure: string }>>((resolve, reject) => {
      inserts.push(insert);
      gates.push((error) => {
        if (error !== undefined) return reject(error);
        resolve(insert.owners.flatMap((owner, i) => (refuse(insert.ids[i]!) ? [{ ...owner, failure: `refused ${insert.ids[i]!}` }] : [])));
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
    const w = gatedWarehouse((id) => id === 'c2' || id === 'b0');
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
      w.inserts.map((i) => i.lines.length),
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
    assert.deepEqual(w.inserts.map((i) => i.lines.length), [1, 2, 1], '20 + 10 bytes exceed 25: two inserts');
  });

  it('passes each write\'s lines through, in order, with their owners', async () => {
    const w = gatedWarehouse();
    const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 0 });
    const first = c.add('t', rows('a', 2));
    await tick();
    const second = c.add('t', rows('b', 1));
    w.gates[0]!();
    await first;
    await tick();
    w.gates[1]!();
    await second;
    assert.deepEqual(w.inserts.map((i) => i.lines.join('')), ['a0\na1\n', 'b0\n']);
    assert.deepEqual(w.inserts[1]!.owners, [{ write: 1, index: 0 }]);
  });

  describe('pacing (lingerMs: the least time between the starts of two inserts into a table)', () => {
    it('sends a write into an idle table at once, and holds the next until the interval has passed', async () => {
      const clock = fakeClock();
      const w = gatedWarehouse();
      const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 500 }, clock);
      const first = c.add('t', rows('a', 1));
      await tick();
      assert.equal(w.inserts.length, 1, 'the first insert into a table waits for nothing');
      w.gates[0]!();
      await first;
      clock.advance(100);
      const queued = [c.add('t', rows('b', 1)), c.add('t', rows('c', 2))];
      await tick();
      clock.advance(399);
      await tick();
      assert.equal(w.inserts.length, 1, '499 ms after the last insert started, the writes still wait');
      clock.advance(1);
      await tick();
      assert.equal(w.inserts.length, 2);
      assert.deepEqual(w.inserts[1]!.ids, ['b0', 'c0', 'c1'], 'the writes of the interval go out together');
      w.gates[1]!();
      assert.deepEqual(await Promise.all(queued), [[], []]);
      clock.advance(500);
      const later = c.add('t', rows('d', 1));
      await tick();
      assert.equal(w.inserts.length, 3, 'a table idle for the interval sends at once again');
      w.gates[2]!();
      await later;
      assert.equal(clock.timers(), 0);
    });

    it('counts the interval from the start of the last insert, so a slow insert adds no wait', async () => {
      const clock = fakeClock();
      const w = gatedWarehouse();
      const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 500 }, clock);
      const first = c.add('t', rows('a', 1));
      await tick();
      clock.advance(200);
      const second = c.add('t', rows('b', 1));
      clock.advance(500); // the insert took 700 ms
      w.gates[0]!();
      await first;
      await tick();
      assert.equal(w.inserts.length, 2, 'queued behind a slow insert, the write goes when it ends');
      assert.equal(clock.timers(), 0);
      w.gates[1]!();
      await second;
    });

    it('paces each table on its own', async () => {
      const clock = fakeClock();
      const w = gatedWarehouse();
      const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 500 }, clock);
      const a = c.add('ad_events', rows('a', 1));
      await tick();
      w.gates[0]!();
      await a;
      clock.advance(10);
      const s = c.add('ad_sessions', rows('s', 1));
      const b = c.add('ad_events', rows('b', 1));
      await tick();
      assert.deepEqual(w.inserts.map((i) => i.table), ['ad_events', 'ad_sessions'], 'the idle table is not held by the busy one');
      w.gates[1]!();
      await s;
      clock.advance(490);
      await tick();
      w.gates[2]!();
      await b;
      assert.deepEqual(w.inserts[2]!.ids, ['b0']);
    });

    it('keeps the limits: what does not fit waits for the next interval, unless it fills an insert', async () => {
      const clock = fakeClock();
      const w = gatedWarehouse();
      const c = new InsertCoalescer(w.run, { maxRows: 5, maxBytes: 1 << 20, lingerMs: 500 }, clock);
      const first = c.add('t', rows('a', 1));
      await tick();
      w.gates[0]!();
      await first;
      const queued = [c.add('t', rows('b', 3)), c.add('t', rows('c', 3))];
      clock.advance(500);
      await tick();
      assert.deepEqual(w.inserts.map((i) => i.lines.length), [1, 3], 'b and c together exceed 5 rows');
      w.gates[1]!();
      await queued[0];
      await tick();
      assert.equal(w.inserts.length, 2, 'c waits for the next interval');
      clock.advance(500);
      await tick();
      assert.equal(w.inserts.length, 3);
      const full = c.add('t', rows('d', 5));
      const after = c.add('t', rows('e', 5));
      w.gates[2]!();
      await queued[1];
      await tick();
      assert.equal(w.inserts.length, 4, 'a queue that fills an insert does not wait');
      assert.deepEqual(w.inserts[3]!.ids, ['d0', 'd1', 'd2', 'd3', 'd4']);
      w.gates[3]!();
      await full;
      await tick();
      assert.equal(w.inserts.length, 5);
      w.gates[4]!();
      await after;
    });

    it('ends the wait once every writer seen lately has a write queued, since nothing more can join', async () => {
      const clock = fakeClock();
      const w = gatedWarehouse();
      const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 500 }, clock);
      // Round one: partitions 0, 1 and 2 write; the first goes at once, the others wait.
      const round1 = [c.add('t', rows('a', 1), '0')];
      await tick();
      round1.push(c.add('t', rows('b', 1), '1'), c.add('t', rows('c', 1), '2'));
      w.gates[0]!();
      await round1[0];
      clock.advance(100);
      await tick();
      assert.equal(w.inserts.length, 1, 'partition 0 may still write within the interval: b and c wait');
      round1.push(c.add('t', rows('d', 1), '0'));
      await tick();
      assert.equal(w.inserts.length, 2, 'all three writers are queued: the insert goes before the interval ends');
      assert.deepEqual(w.inserts[1]!.ids, ['b0', 'c0', 'd0']);
      w.gates[1]!();
      await Promise.all(round1);
      // A writer not seen for four intervals is no longer waited for.
      clock.advance(2_100);
      const alone = c.add('t', rows('e', 1), '1');
      await tick();
      assert.equal(w.inserts.length, 3);
      w.gates[2]!();
      await alone;
      const next = c.add('t', rows('f', 1), '1');
      await tick();
      assert.equal(w.inserts.length, 4, 'the only writer seen lately is queued: waiting could add nothing');
      w.gates[3]!();
      await next;
    });

    it('waits for no more writers than can write at once', async () => {
      const clock = fakeClock();
      const w = gatedWarehouse();
      const c = new InsertCoalescer(w.run, { maxRows: 1000, maxBytes: 1 << 20, lingerMs: 500, writers: 2 }, clock);
      const warm = [c.add('t', rows('a', 1), '0'), c.add('t', rows('b', 1), '1'), c.add('t', rows('c', 1), '2')];
      await tick();
      w.gates[0]!();
      await Promise.all(warm);
      const two = [c.add('t', rows('d', 1), '0'), c.add('t', rows('e', 1), '1')];
      await tick();
      assert.equal(w.inserts.length, 2, 'two of three writers queued, and two is as many as write at once');
      w.gates[1]!();
      await Promise.all(two);
    });
  });
});
