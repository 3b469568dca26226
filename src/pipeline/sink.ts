/**
 * The sink shape (STYLE.md): the runtime owns batching, backoff, concurrency and
 * acknowledgement; a sink writes one batch and says what happened, as a value.
 */
import type { QuartileError } from '../core/errors.ts';
import type { PipelineOutput } from './pipeline-event.ts';

/** What a sink write did. */
export type WriteOutcome =
  | { readonly status: 'delivered' }
  /** Nothing was written durably; try the whole batch again later (the partition waits). */
  | { readonly status: 'retry'; readonly error: QuartileError }
  /** Some items failed for good (index into the batch → why); the rest are written. */
  | { readonly status: 'partial'; readonly failed: ReadonlyMap<number, QuartileError> }
  /** The whole batch failed for good: every item is dead-lettered. */
  | { readonly status: 'reject'; readonly error: QuartileError };

/** The registered names of sinks (their folders under sinks/). */
export type SinkName = 'kafka' | 'dead-letter' | 'clickhouse' | 'pixels';

/** A sink. */
export interface Sink {
  readonly name: SinkName;
  /** Which outputs this sink takes (the route step's table decides per event type). */
  accepts(output: PipelineOutput): boolean;
  write(batch: readonly PipelineOutput[], signal: AbortSignal): Promise<WriteOutcome>;
  close(): Promise<void>;
}
