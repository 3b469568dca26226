/**
 * frequency-cap: counts impressions against the cap rules the Ads Manager checks at
 * decision time (`ads.capRules`; the state layout is owned by src/ads/caps). Counting
 * is idempotent per event id (an atomic check-and-increment guarded by a ledger
 * entry), so replays and retried batches never count an impression twice. It never
 * drops an event: capping happens when ads are chosen, not when they are reported.
 */
import { countImpression, type CapRule } from '../../src/ads/caps/index.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { EMIT, type Processor, type StepContext, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import { eventTimeOf } from '../../src/pipeline/watermark.ts';

export class FrequencyCapProcessor implements Processor {
  readonly name = 'frequency-cap' as const;
  readonly #state: StateStore;
  readonly #rules: readonly CapRule[];
  /** Impressions counted by this process (for tests and metrics). */
  counted = 0;

  constructor(state: StateStore, rules: readonly CapRule[]) {
    this.#state = state;
    this.#rules = rules;
  }

  async processBatch(events: readonly PipelineEvent[], ctx: StepContext): Promise<StepResult[]> {
    if (this.#rules.length > 0) {
      // Different events touch different counters; concurrent calls share one round trip.
      const results = await Promise.all(
        events.map((event) => {
          const e = event.enriched!;
          if (e.eventType !== 'impression' || event.capProfileKey === null) return { counted: false };
          return countImpression(
            this.#state,
            this.#rules,
            {
              eventId: e.eventId,
              profileKey: event.capProfileKey,
              campaignId: e.campaignId,
              lineItemId: e.lineItemId,
              creativeId: e.creativeId,
              advertiserId: e.advertiserId,
              liveEventId: e.live?.liveEventId ?? null,
              occurredAt: eventTimeOf(event.raw!),
            },
            ctx.now(),
          );
        }),
      );
      this.counted += results.filter((r) => r.counted).length;
    }
    return events.map(() => EMIT);
  }

  async process(event: PipelineEvent, ctx: StepContext): Promise<StepResult> {
    return (await this.processBatch([event], ctx))[0]!;
  }
}
