/**
 * Which events matter for billing. Under overload the collector sheds the
 * non-critical ones first and keeps the events measurement vendors and finance count.
 */
import type { EventType } from '../../schemas/types.ts';

/** How important an event type is when the collector must shed load. */
export type EventPriority = 'critical' | 'normal' | 'low';

const CRITICAL: ReadonlySet<EventType> = new Set(['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'click', 'error']);
const LOW: ReadonlySet<EventType> = new Set(['heartbeat', 'progress', 'mute', 'unmute', 'pause', 'resume', 'rewind', 'playerExpand', 'playerCollapse']);

/** The priority of an event type: critical (billing), low (sheddable telemetry) or normal. */
export function priorityOf(eventType: EventType): EventPriority {
  if (CRITICAL.has(eventType)) return 'critical';
  if (LOW.has(eventType)) return 'low';
  return 'normal';
}
