/**
 * resolve: the token's metadata id → the Ads Metadata Registry entry, through the
 * registry's in-process cache. A missing entry is looked up again a few times (the
 * Ads Manager may still be writing it), then dead-lettered as RESOLVE_MISSING_METADATA;
 * `quartile dlq replay --code RESOLVE_MISSING_METADATA` re-runs them once it exists.
 */
import { QuartileError } from '../../src/core/errors.ts';
import type { MetadataRegistry } from '../../src/ads/registry/metadata-registry.ts';
import { EMIT, fail, type Processor, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';

export class ResolveProcessor implements Processor {
  readonly name = 'resolve' as const;
  readonly #registry: MetadataRegistry;
  readonly #retries: number;
  readonly #delayMs: number;

  constructor(registry: MetadataRegistry, options: { retries: number; delayMs: number }) {
    this.#registry = registry;
    this.#retries = options.retries;
    this.#delayMs = options.delayMs;
  }

  async processBatch(events: readonly PipelineEvent[]): Promise<StepResult[]> {
    // Look every distinct id up once; at a live break a batch holds a handful.
    const ids = [...new Set(events.map((e) => e.claims!.mid))];
    const found = new Map<string, Awaited<ReturnType<MetadataRegistry['get']>>>();
    let missing = ids;
    for (let attempt = 0; ; attempt++) {
      const results = await Promise.all(missing.map((mid) => this.#registry.get(mid)));
      missing.forEach((mid, i) => found.set(mid, results[i] ?? null));
      missing = missing.filter((mid) => found.get(mid) === null);
      if (missing.length === 0 || attempt >= this.#retries) break;
      await new Promise((r) => setTimeout(r, this.#delayMs));
    }
    return events.map((event) => {
      const mid = event.claims!.mid;
      const metadata = found.get(mid) ?? null;
      if (metadata === null) {
        return fail(
          new QuartileError('RESOLVE_MISSING_METADATA', `No registry entry ${mid} after ${this.#retries + 1} look-ups; it expired or was never stored.`, { stage: 'resolve' }),
        );
      }
      event.metadata = metadata;
      event.metadataId = mid;
      return EMIT;
    });
  }

  async process(event: PipelineEvent): Promise<StepResult> {
    return (await this.processBatch([event]))[0]!;
  }
}
