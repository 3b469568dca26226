/**
 * How the ClickHouse sink treats a failed insert: an unreachable server is retried
 * (the runtime holds the partition and backs off); a refused statement is permanent,
 * and the batch is split to find the rows that cause it, which alone are
 * dead-lettered.
 */
import { isQuartileError } from '../../src/core/errors.ts';

/** What to do about an insert error. */
export type InsertDecision = 'retry' | 'split';

export function decide(error: unknown): InsertDecision {
  return isQuartileError(error) && error.retriable ? 'retry' : 'split';
}
