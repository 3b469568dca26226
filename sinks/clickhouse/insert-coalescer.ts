/**
 * Batching of ClickHouse inserts by rows, bytes and time, across the pipeline's
 * partitions.
 *
 * Every insert makes a new part per table (and partition of the day), which ClickHouse
 * must write, register in its deduplication log and merge later: measured on chDB, an
 * insert costs about 24 ms of CPU before its rows do, so 60,000 rows took 15.7
 * CPU-seconds in inserts of 100 rows and 1.8 in inserts of 3,000. Each partition of the
 * pipeline writes its own batches, small ones once it has caught up.
 *
 * The coalescer works as a group commit. A table's rows go out at once when no insert
 * into that table is in flight (so a lone write waits for nothing); while one is, the
 * rows of every write that arrives queue up and go out together when it finishes, up
 * to `maxRows` rows or `maxBytes` bytes per insert. `lingerMs` adds a wait before each
 * insert for more rows to join (0 by default: the insert in flight is the wait). Under
 * load the inserts grow by themselves; idle, nothing waits.
 *
 * Each write still learns the fate of its own rows: its promise settles when the
 * inserts holding them are acknowledged, with its own refused rows (see the sink's
 * split on a refused insert), or rejects when the insert must be retried.
 */

/** Rows of one write for one table. */
export interface PendingRows {
  readonly rows: ReadonlyArray<Record<string, unknown>>;
  /** Identity of each row, for the deduplication token. */
  readonly ids: readonly string[];
  /** Estimated bytes of the rows as sent. */
  readonly bytes: number;
}

/** One combined insert: the rows and, per row, which write and which of its rows it is. */
export interface CombinedInsert {
  readonly table: string;
  readonly rows: Array<Record<string, unknown>>;
  readonly ids: string[];
  readonly owners: Array<{ readonly write: number; readonly index: number }>;
}

/** Runs one combined insert; returns the failed rows (by owner) or throws to retry them all. */
export type RunInsert<F> = (insert: CombinedInsert) => Promise<ReadonlyArray<{ readonly write: number; readonly index: number; readonly failure: F }>>;

export interface CoalescerOptions {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly lingerMs: number;
}

interface Waiting<F> {
  readonly write: number;
  readonly pending: PendingRows;
  readonly settle: (failures: Array<{ index: number; failure: F }>) => void;
  readonly fail: (error: unknown) => void;
}

interface TableQueue<F> {
  waiting: Array<Waiting<F>>;
  inFlight: boolean;
}

export class InsertCoalescer<F> {
  readonly #run: RunInsert<F>;
  readonly #options: CoalescerOptions;
  readonly #tables = new Map<string, TableQueue<F>>();
  #nextWrite = 0;

  constructor(run: RunInsert<F>, options: CoalescerOptions) {
    this.#run = run;
    this.#options = options;
  }

  /** Queues rows for `table`; resolves with the failures among them once they are inserted. */
  add(table: string, pending: PendingRows): Promise<Array<{ index: number; failure: F }>> {
    let queue = this.#tables.get(table);
    if (queue === undefined) {
      queue = { waiting: [], inFlight: false };
      this.#tables.set(table, queue);
    }
    const q = queue;
    const write = this.#nextWrite++;
    const promise = new Promise<Array<{ index: number; failure: F }>>((settle, fail) => q.waiting.push({ write, pending, settle, fail }));
    if (!q.inFlight) this.#start(table, q);
    return promise;
  }

  #start(table: string, queue: TableQueue<F>): void {
    queue.inFlight = true;
    const go = (): void => void this.#flush(table, queue);
    if (this.#options.lingerMs > 0) setTimeout(go, this.#options.lingerMs);
    else queueMicrotask(go);
  }

  /** Sends the queued writes, as many as fit one insert; then the next, while any wait. */
  async #flush(table: string, queue: TableQueue<F>): Promise<void> {
    const taken: Array<Waiting<F>> = [];
    let rows = 0;
    let bytes = 0;
    // A write is never split across inserts (its rows stay one unit); a write larger
    // than the limits goes alone.
    while (queue.waiting.length > 0) {
      const next = queue.waiting[0]!;
      const fits = taken.length === 0 || (rows + next.pending.rows.length <= this.#options.maxRows && bytes + next.pending.bytes <= this.#options.maxBytes);
      if (!fits) break;
      taken.push(queue.waiting.shift()!);
      rows += next.pending.rows.length;
      bytes += next.pending.bytes;
    }
    const insert: CombinedInsert = { table, rows: [], ids: [], owners: [] };
    for (const w of taken) {
      w.pending.rows.forEach((row, index) => {
        insert.rows.push(row);
        insert.ids.push(w.pending.ids[index]!);
        insert.owners.push({ write: w.write, index });
      });
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
    if (queue.waiting.length > 0) this.#start(table, queue);
    else queue.inFlight = false;
  }
}
