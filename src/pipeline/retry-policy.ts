/**
 * How the runtime waits between tries of a sink that asked for a retry: full-jitter
 * exponential backoff, from 100 ms up to 30 s, so a sink that is down is not hammered
 * and many partitions do not retry in step.
 */
import { fullJitterBackoff } from '../core/jitter.ts';

export const SINK_RETRY_BASE_MS = 100;
export const SINK_RETRY_CAP_MS = 30_000;

/** The wait before try number `attempt + 1`. */
export function sinkRetryDelayMs(attempt: number): number {
  return Math.max(10, fullJitterBackoff(attempt, SINK_RETRY_BASE_MS, SINK_RETRY_CAP_MS));
}
