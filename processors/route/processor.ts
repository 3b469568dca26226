/** route: decides which sinks get each event, from the routing table. */
import { EMIT, type Processor, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import type { RoutingTable } from './routing-table.ts';

export class RouteProcessor implements Processor {
  readonly name = 'route' as const;
  readonly #table: RoutingTable;

  constructor(table: RoutingTable) {
    this.#table = table;
  }

  process(event: PipelineEvent): StepResult {
    event.routes = this.#table[event.enriched!.eventType];
    return EMIT;
  }
}
