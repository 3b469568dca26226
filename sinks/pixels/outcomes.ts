/**
 * Beacon outcomes into ClickHouse `beacon_deliveries`. Beacon delivery writes a beacon's
 * row before its final ledger entry and before the offset of its record is committed,
 * so a crash in between fires nothing new and loses no row: the record is read again,
 * and the ledger either says final (the row is there) or lets the beacon be tried again.
 *
 * Rows are encoded once, as ClickHouse TabSeparated lines, and many completions share
 * one insert: inserts start at most once per `pixels.outcomeFlushMs`, and what arrives
 * in between goes out together (on chDB an insert costs milliseconds of CPU before its
 * rows do). A write after a quiet spell goes out at once. An insert that fails is
 * tried again as it was, the same lines under the same deduplication token (this
 * writer's id and the insert's number), so an insert ClickHouse took but did not
 * acknowledge counts once; and the table is a ReplacingMergeTree on the beacon, so a
 * row written twice any other way (a crash before the ledger's final entry) counts
 * once too. Earlier versions hashed the lines into the token, which cost a microsecond
 * a beacon and let a retry that took in newer lines miss its first try's token.
 * While ClickHouse is down the writes wait and are tried again with backoff; delivery
 * holds their beacons meanwhile, and stops reading new work once it holds
 * `pixels.maxPending`.
 */
import { randomUUID } from 'node:crypto';
import { QuartileError, messageOf } from '../../src/core/errors.ts';
import { fullJitterBackoff } from '../../src/core/jitter.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { tsvLine } from '../../src/warehouse/tsv.ts';
import type { DeliveryRow } from './ledger.ts';

const TABLE = 'beacon_deliveries';
/** Rows per insert at most (a larger backlog goes out in several). */
const MAX_ROWS = 50_000;

/** The columns of `beacon_deliveries`, in the order the lines hold them. */
export const DELIVERY_COLUMNS: readonly (keyof DeliveryRow)[] = [
  'event_id', 'vendor', 'event_type', 'uri_hash', 'outcome', 'reason', 'http_status', 'attempts', 'latency_ms', 'completed_at',
];

/** Rows as TabSeparated lines, in {@link DELIVERY_COLUMNS} order. */
export function deliveryLines(rows: readonly DeliveryRow[]): string {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = tsvLine(rows[i] as unknown as Record<string, string | number>, DELIVERY_COLUMNS);
  return lines.join('');
}

/** One insert: the writes it carries, their lines, and its deduplication token. */
interface Insert {
  readonly taken: Waiter[];
  readonly lines: string;
  readonly token: string;
}

interface Waiter {
  readonly lines: string;
  readonly rows: number;
  readonly done: () => void;
  readonly fail: (error: unknown) => void;
}

/** Options of the writer. */
export interface OutcomeWriterOptions {
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  /** Least time between the starts of two inserts. */
  readonly lingerMs: number;
}

export class OutcomeWriter {
  readonly #o: OutcomeWriterOptions;
  #waiting: Waiter[] = [];
  /** An insert that failed, tried again first and as it was. */
  #failed: Insert | undefined;
  /** Tokens are `beacon_deliveries:<writer>:<insert number>`: unique without hashing the lines. */
  readonly #tokenPrefix = `${TABLE}:${randomUUID()}:`;
  #inserts = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #failures = 0;
  #lastStart = Number.NEGATIVE_INFINITY;
  #warnedAt = 0;
  #stopped = false;

  constructor(options: OutcomeWriterOptions) {
    this.#o = options;
  }

  /** Rows not yet in ClickHouse. */
  get pending(): number {
    let n = 0;
    for (const w of this.#failed?.taken ?? []) n += w.rows;
    for (const w of this.#waiting) n += w.rows;
    return n;
  }

  /** Resolves once the rows are in ClickHouse; rejects only when the writer stops first. */
  write(rows: readonly DeliveryRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.#stopped) return Promise.reject(new QuartileError('SINK_CLICKHOUSE_UNAVAILABLE', 'Beacon outcomes were not written: delivery is stopping.', { retriable: true, stage: 'sinks/pixels' }));
    const lines = deliveryLines(rows);
    return new Promise<void>((done, fail) => {
      this.#waiting.push({ lines, rows: rows.length, done, fail });
      this.#schedule();
    });
  }

  /** Starts the next insert once the last one is over and `lingerMs` (or, after failures, a backoff) has passed since it started. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#inFlight !== undefined || this.#stopped) return;
    const wait = this.#failures > 0 ? fullJitterBackoff(this.#failures, 500, 10_000) : this.#lastStart + this.#o.lingerMs - Date.now();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastStart = Date.now();
      this.#inFlight = this.#insert().finally(() => {
        this.#inFlight = undefined;
        if (this.#waiting.length > 0 || this.#failed !== undefined) this.#schedule();
      });
    }, Math.max(0, wait));
  }

  async #insert(): Promise<void> {
    const batch = this.#failed ?? this.#next();
    this.#failed = undefined;
    if (batch.taken.length === 0) return;
    try {
      await this.#o.warehouse.insertTabSeparated(TABLE, DELIVERY_COLUMNS, batch.lines, { deduplicationToken: batch.token });
      this.#failures = 0;
      for (const w of batch.taken) w.done();
    } catch (error) {
      // Tried again first, as it was: its beacons wait, and so does their records' commit.
      this.#failed = batch;
      this.#failures++;
      if (Date.now() - this.#warnedAt > 10_000) {
        this.#warnedAt = Date.now();
        this.#o.logger.warn({ err: messageOf(error), rows: this.pending }, 'beacon outcomes not written to ClickHouse yet; their beacons wait');
      }
    }
  }

  /** The next insert: the writes waiting, up to MAX_ROWS rows, under a token of its own. */
  #next(): Insert {
    const taken: Waiter[] = [];
    let rows = 0;
    while (this.#waiting.length > 0 && (taken.length === 0 || rows + this.#waiting[0]!.rows <= MAX_ROWS)) {
      const w = this.#waiting.shift()!;
      taken.push(w);
      rows += w.rows;
    }
    return { taken, lines: taken.map((w) => w.lines).join(''), token: `${this.#tokenPrefix}${this.#inserts++}` };
  }

  /** Writes what waits now (no linger); resolves when it is written or the attempt failed. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    if (this.#waiting.length > 0 || this.#failed !== undefined) await this.#insert();
  }

  /** Stops: what is still waiting fails (its beacons are not settled, so their records are read again). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const held = [...(this.#failed?.taken ?? []), ...this.#waiting.splice(0)];
    this.#failed = undefined;
    for (const w of held) w.fail(new QuartileError('SINK_CLICKHOUSE_UNAVAILABLE', 'Beacon outcomes were not written: delivery stopped.', { retriable: true, stage: 'sinks/pixels' }));
  }
}
