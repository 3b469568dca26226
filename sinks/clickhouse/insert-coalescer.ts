/**
 * Batching of ClickHouse inserts by rows, bytes and time, across the pipeline's
 * partitions.
 *
 * Every insert makes a new part per table (and partition of the day), which ClickHouse
 * must write, register in its deduplication log and merge later: measured on chDB, an
 * insert costs about 24 ms of CPU before its rows do, so 60,000 rows took 15.7
 * CPU-seconds in inserts of 100 rows and 1.8 in inserts of 3,000. Each partition of the
 * pipeline writes its own batches, small ones once it has caught up. What costs
 * ClickHouse is the number of parts, so the coalescer makes fewer, larger ones:
 *
 * - Group commit: a table's rows go out at once when no insert into that table is in
 *   flight; while one is, the rows of every write that arrives queue up and go out
 *   together when it finishes, up to `maxRows` rows or `maxBytes` bytes per insert.
 * - Pacing: two inserts into the same table start at least `lingerMs` apart (500 ms by
 *   default). A write into a table whose last insert started that long ago goes out at
 *   once (an idle pipeline waits for nothing); otherwise it waits out the rest of the
 *   interval, and every write queued meanwhile joins it. Under load a table thus gets
 *   about two parts a second, whatever the number of partitions and however small
 *   their batches, instead of one per insert that ClickHouse can finish. The group
 *   commit alone paced inserts by ClickHouse's own speed, which made the most parts
 *   exactly when ClickHouse was busiest. A queue that already holds a full insert does
 *   not wait: its part is as large as parts get.
 *
 * What the wait must not cost is the pipeline's throughput. A partition's batches run
 * one after the other, each awaiting its sink writes before its offsets are committed,
 * so a partition has at most one write queued at a time; a wait that outlasted the
 * arrival of every partition's write would only hold them all (6 × 500 events per
 * 500 ms, 6,000 events/s at the defaults, was the cap bench/warehouse.bench.ts
 * measured before this rule). So each write names its writer (the sink: the pipeline
 * partition it comes from), and the wait ends as soon as every writer seen lately (in
 * the last `ACTIVE_WINDOWS` intervals), up to `writers` of them, has a write queued:
 * nothing more can join. Under load a table gets one insert per round of the
 * partitions, as large as a round makes; a partition that stops writing is waited for
 * at most one interval, and only while it still counts as seen lately.
 *
 * Each write still learns the fate of its own rows: its promise settles when the
 * inserts holding them are acknowledged, with its own refused rows (see the sink's
 * split on a refused insert), or rejects when the insert must be retried.
 */

/** Rows of one write for one table, already encoded as TabSeparated lines. */
export interface PendingRows {
  /** One TabSeparated line per row, each with its line feed. */
  readonly lines: readonly string[];
  /** Identity of each row, for the deduplication token. */
  readonly ids: readonly string[];
  /** Bytes of the lines (their lengths). */
  readonly bytes: number;
}

/** One combined insert: the lines and, per line, which write and which of its rows it is. */
export interface CombinedInsert {
  readonly table: string;
  readonly lines: string[];
  readonly ids: string[];
  readonly owners: Array<{ readonly write: number; readonly index: number }>;
}

/** Runs one combined insert; returns the failed rows (by owner) or throws to retry them all. */
export type RunInsert<F> = (insert: CombinedInsert) => Promise<ReadonlyArray<{ readonly write: number; readonly index: number; readonly failure: F }>>;

/** Limits of one insert, and the pacing of a table's inserts. */
export interface CoalescerOptions {
  /** Most rows in one insert (a write larger than this goes alone, whole). */
  readonly maxRows: number;
  /** Most bytes in one insert (likewise). */
  readonly maxBytes: number;
  /** Least time between the starts of two inserts into the same table; 0 = group commit only. */
  readonly lingerMs: number;
  /**
   * Most writers that can have a write queued at once (the pipeline's partitions
   * processed concurrently): when that many are waiting, nothing more can join.
   */
  readonly writers?: number;
}

/** A writer counts as active while it wrote within this many intervals. */
const ACTIVE_WINDOWS = 4;

/** Time, for the pacing: the real clock unless a test brings its own. */
export interface CoalescerClock {
  now(): number;
  setTimeout(run: () => void, ms: number): void;
}

const REAL_CLOCK: CoalescerClock = {
  now: () => performance.now(),
  setTimeout: (run, ms) => void setTimeout(run, ms),
};

interface Waiting<F> {
  readonly write: number;
  readonly writer: string | undefined;
  readonly pending: PendingRows;
  readonly settle: (failures: Array<{ index: number; failure: F }>) => void;
  readonly fail: (error: unknown) => void;
}

interface TableQueue<F> {
  waiting: Array<Waiting<F>>;
  /** idle: nothing queued; timed: waiting out the interval; running: an insert is about to start or runs. */
  state: 'idle' | 'timed' | 'running';
  /** Bumped when a timed wait is cut short, so its timer does nothing. */
  timer: number;
  /** When the last insert into the table started. */
  lastStart: number;
  /** When each writer last wrote. */
  readonly writers: Map<string, number>;
}

export class InsertCoalescer<F> {
  readonly #run: RunInsert<F>;
  readonly #options: CoalescerOptions;
  readonly #clock: CoalescerClock;
  readonly #tables = new Map<string, TableQueue<F>>();
  #nextWrite = 0;

  constructor(run: RunInsert<F>, options: CoalescerOptions, clock: CoalescerClock = REAL_CLOCK) {
    this.#run = run;
    this.#options = options;
    this.#clock = clock;
  }

  /**
   * Queues rows for `table` from `writer` (one with at most one write queued at a time;
   * undefined: unknown); resolves with the failures among them once they are inserted.
   */
  add(table: string, pending: PendingRows, writer?: string): Promise<Array<{ index: number; failure: F }>> {
    let queue = this.#tables.get(table);
    if (queue === undefined) {
      queue = { waiting: [], state: 'idle', timer: 0, lastStart: Number.NEGATIVE_INFINITY, writers: new Map() };
      this.#tables.set(table, queue);
    }
    const q = queue;
    if (writer !== undefined) q.writers.set(writer, this.#clock.now());
    const write = this.#nextWrite++;
    const promise = new Promise<Array<{ index: number; failure: F }>>((settle, fail) => q.waiting.push({ write, writer, pending, settle, fail }));
    if (q.state === 'idle') this.#schedule(table, q);
    else if (q.state === 'timed' && (this.#full(q) || this.#allWriting(q))) {
      q.timer++;
      this.#go(table, q);
    }
    return promise;
  }

  /** Starts the next insert once the interval since the last one has passed, or nothing more can join. */
  #schedule(table: string, queue: TableQueue<F>): void {
    const wait = queue.lastStart + this.#options.lingerMs - this.#clock.now();
    if (wait <= 0 || this.#full(queue) || this.#allWriting(queue)) {
      this.#go(table, queue);
      return;
    }
    queue.state = 'timed';
    const timer = ++queue.timer;
    this.#clock.setTimeout(() => {
      if (queue.timer === timer && queue.state === 'timed') this.#go(table, queue);
    }, wait);
  }

  #go(table: string, queue: TableQueue<F>): void {
    queue.state = 'running';
    // A microtask even when nothing waits, so the other writes of the same turn (the
    // three tables of a batch, the partitions answered together) can join.
    queueMicrotask(() => void this.#flush(table, queue));
  }

  /**
   * True when every writer seen lately (or `writers` of them) has a write queued:
   * waiting longer would add nothing to the insert. Forgets writers not seen lately.
   */
  #allWriting(queue: TableQueue<F>): boolean {
    if (queue.writers.size === 0) return false;
    const since = this.#clock.now() - ACTIVE_WINDOWS * this.#options.lingerMs;
    const queued = new Set<string>();
    for (const w of queue.waiting) if (w.writer !== undefined) queued.add(w.writer);
    let active = 0;
    for (const [writer, seen] of queue.writers) {
      if (seen < since) queue.writers.delete(writer);
      else active++;
    }
    return queued.size >= Math.min(active, this.#options.writers ?? Number.POSITIVE_INFINITY);
  }

  /** True when the queued writes fill an insert by themselves. */
  #full(queue: TableQueue<F>): boolean {
    let rows = 0;
    let bytes = 0;
    for (const w of queue.waiting) {
      rows += w.pending.lines.length;
      bytes += w.pending.bytes;
      if (rows >= this.#options.maxRows || bytes >= this.#options.maxBytes) return true;
    }
    return false;
  }

  /** Sends the queued writes, as many as fit one insert; schedules the next, while any wait. */
  async #flush(table: string, queue: TableQueue<F>): Promise<void> {
    queue.lastStart = this.#clock.now();
    const taken: Array<Waiting<F>> = [];
    let rows = 0;
    let bytes = 0;
    // A write is never split across inserts (its rows stay one unit); a write larger
    // than the limits goes alone.
    while (queue.waiting.length > 0) {
      const next = queue.waiting[0]!;
      const fits = taken.length === 0 || (rows + next.pending.lines.length <= this.#options.maxRows && bytes + next.pending.bytes <= this.#options.maxBytes);
      if (!fits) break;
      taken.push(queue.waiting.shift()!);
      rows += next.pending.lines.length;
      bytes += next.pending.bytes;
    }
    const insert: CombinedInsert = { table, lines: [], ids: [], owners: [] };
    for (const w of taken) {
      const { lines, ids } = w.pending;
      for (let index = 0; index < lines.length; index++) {
        insert.lines.push(lines[index]!);
        insert.ids.push(ids[index]!);
        insert.owners.push({ write: w.write, index });
      }
    }
    try {
      const failures = await this.#run(insert);
      const byWrite = new Map<number, Array<{ index: number; failure: F }>>();
      for (const f of failures) {
        const list = byWrite.get(f.write) ?? [];
        list.push({ index: f.index, failure: f.failure });
        byWrite.set(f.write, list);
      }
      for (const w of taken) w.settle(byWrite.get(w.write) ?? []);
    } catch (error) {
      for (const w of taken) w.fail(error);
    }
    if (queue.waiting.length > 0) this.#schedule(table, queue);
    else queue.state = 'idle';
  }
}
