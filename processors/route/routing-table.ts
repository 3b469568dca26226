/**
 * The default routing table: which sinks get which event types. Impressions are the
 * billable events; heartbeats only feed the enriched topic (they carry no beacons and
 * would only bloat the warehouse). Everything else goes to the enriched topic, the
 * warehouse's ad_events, and the pixels sink (which fires only the event types the
 * ad's metadata has beacons for).
 */
import type { EventType } from '../../schemas/types.ts';
import { EventTypeValues } from '../../schemas/types.ts';
import type { RouteTarget } from '../../src/pipeline/pipeline-event.ts';

/** Event type → sink targets. */
export type RoutingTable = Readonly<Record<EventType, ReadonlySet<RouteTarget>>>;

const STANDARD: readonly RouteTarget[] = ['enriched', 'warehouse', 'pixels'];

/** The table Quartile uses unless configured otherwise. */
export function defaultRoutingTable(): RoutingTable {
  const table = {} as Record<EventType, ReadonlySet<RouteTarget>>;
  for (const type of EventTypeValues) table[type] = new Set(STANDARD);
  table.impression = new Set<RouteTarget>([...STANDARD, 'billing']);
  table.heartbeat = new Set<RouteTarget>(['enriched']);
  table.adBreakStart = new Set<RouteTarget>(['enriched', 'warehouse']);
  table.adBreakEnd = new Set<RouteTarget>(['enriched', 'warehouse']);
  return table;
}

/** The default table with per-type overrides (`pipeline.routes`). */
export function routingTable(overrides: Readonly<Partial<Record<EventType, readonly RouteTarget[]>>> = {}): RoutingTable {
  const table = { ...defaultRoutingTable() } as Record<EventType, ReadonlySet<RouteTarget>>;
  for (const [type, targets] of Object.entries(overrides)) table[type as EventType] = new Set(targets);
  return table;
}
