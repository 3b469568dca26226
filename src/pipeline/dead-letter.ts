/** Building DeadLetter records: reason code, stage, message, attempts and original bytes. */
import type { DeadLetter } from '../../schemas/types.ts';
import type { QuartileError } from '../core/errors.ts';
import type { PipelineEvent } from './pipeline-event.ts';

/** A DeadLetter for an event that failed at `stage`. */
export function deadLetterFor(event: PipelineEvent, stage: string, error: QuartileError, now: number, attempts = 1): DeadLetter {
  const record = event.source.record;
  return {
    code: error.code,
    stage,
    message: error.message,
    retriable: error.retriable,
    attempts,
    firstFailedAt: now,
    deadLetteredAt: now,
    source: { topic: event.source.originTopic, partition: event.source.originPartition, offset: Number(event.source.originOffset) },
    eventId: event.raw?.eventId ?? null,
    eventType: event.raw?.eventType ?? null,
    vendor: null,
    originalKey: record.key,
    originalValue: record.value ?? Buffer.alloc(0),
  };
}
