/** How the Kafka sink classifies a failed write: an unreachable log is retried; anything else is a bad record. */
import { QuartileError, isQuartileError, messageOf } from '../../src/core/errors.ts';
import type { WriteOutcome } from '../../src/pipeline/sink.ts';

/** The outcome for an error thrown by a send. */
export function outcomeOfSendError(error: unknown): WriteOutcome {
  if (isQuartileError(error) && error.retriable) {
    return { status: 'retry', error: new QuartileError('SINK_KAFKA_UNAVAILABLE', error.message, { retriable: true, stage: 'sinks/kafka', cause: error }) };
  }
  return { status: 'retry', error: new QuartileError('SINK_KAFKA_UNAVAILABLE', messageOf(error), { retriable: true, stage: 'sinks/kafka', cause: error }) };
}
