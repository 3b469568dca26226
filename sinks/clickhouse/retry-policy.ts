/**
 * How the ClickHouse sink treats a failed insert.
 *
 * - `split`: ClickHouse refused some rows' data (a type, a parse failure, a
 *   constraint). The batch is halved until the refusing rows are found, and only they
 *   are dead-lettered.
 * - `retry`: anything else: ClickHouse unreachable, overloaded (too many parts, memory),
 *   or the schema not in place (unknown table, missing column: `quartile migrate`).
 *   No row is at fault, so the runtime holds the partition and tries again with
 *   backoff; splitting would only make a thousand failing inserts out of one.
 */
import { isQuartileError } from '../../src/core/errors.ts';

/** What to do about an insert error. */
export type InsertDecision = 'retry' | 'split';

/** ClickHouse error types that blame the data of particular rows. */
const ROW_LEVEL = new Set([
  'TYPE_MISMATCH',
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_UUID',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_READ_ALL_DATA',
  'INCORRECT_DATA',
  'VIOLATED_CONSTRAINT',
  'ILLEGAL_TYPE_OF_ARGUMENT',
  'ARGUMENT_OUT_OF_BOUND',
  'DECIMAL_OVERFLOW',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'TOO_LARGE_STRING_SIZE',
]);

/** The ClickHouse error type (e.g. `UNKNOWN_TABLE`) behind a warehouse error, if any. */
function clickhouseType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && type !== '') return type;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function decide(error: unknown): InsertDecision {
  if (isQuartileError(error) && error.retriable) return 'retry';
  const type = clickhouseType(error);
  return type !== undefined && ROW_LEVEL.has(type) ? 'split' : 'retry';
}
