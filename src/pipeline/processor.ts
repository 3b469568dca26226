/**
 * The processor shape (STYLE.md): one event in, a decision out. Processors run in
 * order within a partition. A processor that talks to the state store may also take
 * a whole batch at once (`processBatch`) so it can use one round trip for many events;
 * it must return one result per input, in order.
 */
import type { QuartileError } from '../core/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { AdSession } from '../../schemas/types.ts';
import type { PipelineEvent } from './pipeline-event.ts';

/** Why an event was deliberately dropped (counted, not dead-lettered). */
export type DropReason = 'duplicate' | 'bot' | 'capped' | 'no-consent' | 'filtered';

/** The outcome of one step for one event. */
export type StepResult =
  | { readonly kind: 'emit' } // the event continues
  | { readonly kind: 'drop'; readonly reason: DropReason }
  | { readonly kind: 'fail'; readonly error: QuartileError };

/** The names of the pipeline steps, in order. */
export const PROCESSOR_NAMES = ['decode', 'decrypt', 'resolve', 'enrich', 'hash', 'dedupe', 'sessionize', 'frequency-cap', 'route'] as const;

/** A step's registered name (its folder under processors/). */
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

/** What a step sees besides the event. */
export interface StepContext {
  readonly partition: number;
  readonly topic: string;
  readonly logger: Logger;
  /** Current time (injectable for tests). */
  now(): number;
  /** Sessions closed while handling this batch (sessionize adds them). */
  readonly closedSessions: AdSession[];
  /** Work to do once every sink has acknowledged this batch's outputs. */
  readonly afterDelivery: Array<() => Promise<void>>;
}

/** One pipeline step. */
export interface Processor {
  readonly name: ProcessorName;
  process(event: PipelineEvent, ctx: StepContext): StepResult | Promise<StepResult>;
  /** Optional batch form; one result per event, in order. */
  processBatch?(events: readonly PipelineEvent[], ctx: StepContext): Promise<StepResult[]>;
  /**
   * Called after each batch and on an idle timer with the partition's watermark
   * (event time); a step may close state (sessions) and add outputs to the context.
   */
  onWatermark?(watermark: number, ctx: StepContext): Promise<void>;
  /** Called when this process loses a partition (rebalance or stop). */
  release?(partition: number): Promise<void>;
  close?(): Promise<void>;
}

/** The usual results. */
export const EMIT: StepResult = { kind: 'emit' };
export function drop(reason: DropReason): StepResult {
  return { kind: 'drop', reason };
}
export function fail(error: QuartileError): StepResult {
  return { kind: 'fail', error };
}
