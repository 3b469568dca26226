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
    const positions = events.map(positionOf);
    const firstSeenAt = new Map<string, string>();
    events.forEach((event, i) => {
      const id = event.raw!.eventId;
      if (!firstSeenAt.has(id)) firstSeenAt.set(id, positions[i]!);
    });
    // One claim per distinct id, all in one state call. A claim that finds a stored
    // position replaces the batch's own.
    const ids = [...firstSeenAt.keys()];
    const existing = await this.#state.setIfAbsentMany(
      ids.map((id) => ({ key: `dd:${id}`, value: firstSeenAt.get(id)! })),
      this.#ttlMs,
    );
    ids.forEach((id, i) => {
      const stored = existing[i];
      if (stored !== null && stored !== undefined) firstSeenAt.set(id, stored);
    });
    return events.map((event, i) => (firstSeenAt.get(event.raw!.eventId) === positions[i] ? EMIT : drop('duplicate')));
  }

  async process(event: PipelineEvent): Promise<StepResult> {
    return (await this.processBatch([event]))[0]!;
  }
}
