/**
 * dedupe: a replay is not a duplicate (ARCHITECTURE.md, "Guarantees").
 *
 * The first sighting of an event id stores its position (topic/partition/offset, or
 * for a record re-injected by `quartile dlq replay`, the position it was first read
 * at). Seeing the id again AT THAT POSITION is a replay — after a crash, a rebalance
 * or a retried batch — and passes, because every sink is idempotent. Seeing it at
 * ANOTHER position is a duplicate (a device retry, a collector retry after a lost
 * answer) and is dropped and counted.
 */
import type { StateStore } from '../../src/state/state-store.ts';
import { EMIT, drop, type Processor, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';

function positionOf(event: PipelineEvent): string {
  return `${event.source.originTopic}/${event.source.originPartition}/${event.source.originOffset}`;
}

export class DedupeProcessor implements Processor {
  readonly name = 'dedupe' as const;
  readonly #state: StateStore;
  readonly #ttlMs: number;

  constructor(state: StateStore, options: { ttlMs: number }) {
    this.#state = state;
    this.#ttlMs = options.ttlMs;
  }

  async processBatch(events: readonly PipelineEvent[]): Promise<StepResult[]> {
    // Within the batch, the first position of an id wins, as it would one by one.
    const firstInBatch = new Map<string, string>();
    for (const event of events) {
      const id = event.raw!.eventId;
      if (!firstInBatch.has(id)) firstInBatch.set(id, positionOf(event));
    }
    // One claim per distinct id; the Redis client pipelines them into one round trip.
    const ids = [...firstInBatch.keys()];
    const existing = await Promise.all(ids.map((id) => this.#state.setIfAbsent(`dd:${id}`, firstInBatch.get(id)!, this.#ttlMs)));
    const firstSeenAt = new Map(ids.map((id, i) => [id, existing[i] ?? firstInBatch.get(id)!]));
    return events.map((event) => (firstSeenAt.get(event.raw!.eventId) === positionOf(event) ? EMIT : drop('duplicate')));
  }

  async process(event: PipelineEvent): Promise<StepResult> {
    return (await this.processBatch([event]))[0]!;
  }
}
