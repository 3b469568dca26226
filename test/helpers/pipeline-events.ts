/** PipelineEvents for processor unit tests, built as the runtime builds them. */
import type { AdEvent } from '../../schemas/types.ts';
import { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import type { StepContext } from '../../src/pipeline/processor.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import { sampleAdEvent } from './events.ts';

const codec = new RecordCodec();

/** A PipelineEvent read at `offset` of partition 0, carrying `bytes` (default: the encoded event). */
export async function pipelineEvent(event: Partial<AdEvent> = {}, offset = 0, bytes?: Buffer): Promise<PipelineEvent> {
  const raw = sampleAdEvent(event);
  const value = bytes ?? (await codec.encode(TOPICS.raw, raw));
  const record = { topic: TOPICS.raw, partition: 0, offset: String(offset), key: Buffer.from(raw.playbackSessionId), value, timestamp: 0, headers: {} };
  const e = new PipelineEvent({ record, originTopic: TOPICS.raw, originPartition: 0, originOffset: String(offset) });
  e.raw = raw;
  return e;
}

/** A step context for partition 0 at a fixed time. */
export function stepContext(now = Date.UTC(2026, 10, 25, 20, 0, 0)): StepContext {
  return { topic: TOPICS.raw, partition: 0, logger: silentLogger(), now: () => now, closedSessions: [], afterDelivery: [] };
}

export { codec as testCodec };
