/**
 * Beacon outcomes on their way to ClickHouse `beacon_deliveries`. A final outcome is
 * first added to the outbox in the state seam, in the same step that writes the
 * ledger, so it survives a crash; a flusher moves the outbox to ClickHouse in batches.
 * One outbox member holds the rows of one batch, already encoded as ClickHouse
 * TabSeparated lines: they go to ClickHouse as written, with no JSON made, parsed and
 * made again per row (and TabSeparated is cheaper for ClickHouse to read than JSON).
 * Members earlier versions wrote (JSON: an array of rows, or one row) are still read.
 * One process flushes at a time (a lock in the state seam); every insert carries a
 * deduplication token of its rows, and the table is a ReplacingMergeTree on the
 * beacon, so a batch inserted twice is counted once.
 */
import { createHash } from 'node:crypto';
import { messageOf } from '../../src/core/errors.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { utc } from '../clickhouse/rows.ts';
import { tsvLine } from '../../src/warehouse/tsv.ts';
import { keys, type DeliveryRow } from './ledger.ts';

const TABLE = 'beacon_deliveries';
/** Outbox members (batches of rows) per insert. */
const BATCH_MEMBERS = 64;

/** Options of the flusher. */
export interface OutcomeFlusherOptions {
  readonly state: StateStore;
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  readonly owner: string;
}

/** A delivery row for an outcome completed now. */
export function deliveryRow(fields: Omit<DeliveryRow, 'completed_at'>, completedAt: number): DeliveryRow {
  return { ...fields, completed_at: completedText(completedAt) };
}

// Rows completed in one batch share their time: format it once.
let completedMs = Number.NaN;
let completedAtText = '';

/** `completed_at` of a row completed at `ms` (epoch). */
export function completedText(ms: number): string {
  if (ms !== completedMs) {
    completedMs = ms;
    completedAtText = utc(ms);
  }
  return completedAtText;
}

/**
 * The deduplication token of a set of outbox members: a hash of them joined by
 * newlines, fed member by member (the joined text of 64 batches would be megabytes).
 */
function tokenHash(names: readonly string[]): string {
  const hash = createHash('sha256');
  names.forEach((name, i) => {
    if (i > 0) hash.update('\n');
    hash.update(name);
  });
  return hash.digest('base64url').slice(0, 32);
}

/** The columns of `beacon_deliveries`, in the order an outbox member's lines hold them. */
export const DELIVERY_COLUMNS: readonly (keyof DeliveryRow)[] = [
  'event_id', 'vendor', 'event_type', 'uri_hash', 'outcome', 'reason', 'http_status', 'attempts', 'latency_ms', 'completed_at',
];

/** An outbox member: the rows' TabSeparated lines. */
export function outboxMember(rows: readonly DeliveryRow[]): string {
  let text = '';
  for (const row of rows) text += tsvLine(row as unknown as Record<string, string | number>, DELIVERY_COLUMNS);
  return text;
}

/**
 * An outbox member's lines. Earlier versions wrote JSON (an array of rows, or one
 * row), which starts with `[` or `{`; a line starts with an event id, which cannot.
 */
function linesOf(member: string): string {
  if (!member.startsWith('[') && !member.startsWith('{')) return member;
  const parsed = JSON.parse(member) as DeliveryRow | DeliveryRow[];
  return outboxMember(Array.isArray(parsed) ? parsed : [parsed]);
}

/** How many rows a member's lines hold. */
function countLines(lines: string): number {
  let n = 0;
  for (let at = lines.indexOf('\n'); at !== -1; at = lines.indexOf('\n', at + 1)) n++;
  return n;
}

export class OutcomeFlusher {
  readonly #o: OutcomeFlusherOptions;
  #running: Promise<void> | undefined;
  /** Rows this process added and has not seen flushed (backpressure counts them). */
  #unflushed = 0;
  #warned = 0;

  constructor(options: OutcomeFlusherOptions) {
    this.#o = options;
  }

  /** Rows waiting, as far as this process knows. */
  get unflushed(): number {
    return this.#unflushed;
  }

  /** Adds rows to the outbox (durably, in the state seam). */
  async add(rows: readonly DeliveryRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#o.state.sortedAdd(keys.outbox, [{ member: outboxMember(rows), score: Date.now() }]);
    this.#unflushed += rows.length;
  }

  /** Moves the outbox to ClickHouse; concurrent calls share one run. */
  flush(): Promise<void> {
    this.#running ??= this.#flush().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #flush(): Promise<void> {
    const { state, warehouse, owner } = this.#o;
    try {
      if ((await state.setIfAbsent(keys.outboxLock, owner, 30_000)) !== null) return;
      try {
        for (;;) {
          const members = await state.sortedRange(keys.outbox, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, BATCH_MEMBERS);
          if (members.length === 0) {
            this.#unflushed = 0;
            return;
          }
          const names = members.map((m) => m.member);
          const lines = names.map(linesOf).join('');
          const token = `${TABLE}:${tokenHash(names)}`;
          await warehouse.insertTabSeparated(TABLE, DELIVERY_COLUMNS, lines, { deduplicationToken: token });
          await state.sortedRemove(keys.outbox, names);
          this.#unflushed = Math.max(0, this.#unflushed - countLines(lines));
          if (members.length < BATCH_MEMBERS) {
            this.#unflushed = 0;
            return;
          }
        }
      } finally {
        await state.delete([keys.outboxLock]).catch(() => 0);
      }
    } catch (error) {
      // ClickHouse or the state store is down: the rows wait in the outbox, and the
      // backlog they make slows the pipeline down (maxPending) rather than growing.
      if (Date.now() - this.#warned > 10_000) {
        this.#warned = Date.now();
        this.#o.logger.warn({ err: messageOf(error) }, 'beacon outcomes not written to ClickHouse yet; they wait in the outbox');
      }
    }
  }
}
