/**
 * The pixels sink's layout in the state seam (Redis in production): the beacon ledger,
 * the durable queue, and the outcome outbox. Every pipeline process shares it.
 *
 * | key | holds | lifetime |
 * |---|---|---|
 * | `px:l:<id>` | the ledger: `p` queued, `d` delivered, `f` failed, `s` suppressed | `pipeline.dedupeTtlMs` |
 * | `px:j:<id>` | the queued beacon (JSON): URI template, vendor, attempts, first queued | `pixels.deadlineMs` |
 * | `px:e:<eventId>` | the event's device context, sealed (AES-256-GCM, see event-context.ts) | `pixels.deadlineMs` |
 * | `px:k:<id>` | the lease of whoever is firing the beacon now | one attempt |
 * | `px:q:<host>` | sorted set: queued beacon ids of one vendor domain, by due time | while not empty |
 * | `px:hosts` | sorted set: domains with queued beacons | — |
 * | `px:paused` | sorted set: paused vendors | until resumed |
 * | `px:o` | sorted set: batches of outcome rows (JSON arrays) waiting for ClickHouse `beacon_deliveries` | until written |
 *
 * A beacon id is `<eventId>|<vendor>|<uriHash>` (progress offsets: `ai:<adInstanceId>|…`,
 * as each fires once per ad play). Exactly once per beacon rests on two checks before
 * every attempt: take the lease (set-if-absent), then read the ledger, which must say
 * `p`. A beacon whose ledger says `d` is never fired again, whoever replays what.
 */

/** Ledger states. */
export const LEDGER = { queued: 'p', delivered: 'd', failed: 'f', suppressed: 's' } as const;

/** A ledger state. */
export type LedgerState = (typeof LEDGER)[keyof typeof LEDGER];

/** A queued beacon, as stored in `px:j:<id>`. */
export interface BeaconJob {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly vendor: string;
  readonly host: string;
  readonly template: string;
  readonly uriHash: string;
  /** Macro values of the beacon itself ([REASON]). */
  readonly macros?: Readonly<Record<string, string | number>>;
  /** When it was first queued (epoch ms): the deadline counts from here. */
  readonly firstAt: number;
  attempts: number;
  /** Next attempt (epoch ms). */
  due: number;
}

/** A row of ClickHouse `beacon_deliveries`. */
export interface DeliveryRow {
  readonly event_id: string;
  readonly vendor: string;
  readonly event_type: string;
  readonly uri_hash: string;
  readonly outcome: 'delivered' | 'failed' | 'suppressed';
  readonly reason: string;
  readonly http_status: number;
  readonly attempts: number;
  readonly latency_ms: number;
  readonly completed_at: string;
}

export const keys = {
  ledger: (id: string): string => `px:l:${id}`,
  job: (id: string): string => `px:j:${id}`,
  context: (eventId: string): string => `px:e:${eventId}`,
  lease: (id: string): string => `px:k:${id}`,
  queue: (host: string): string => `px:q:${host}`,
  hosts: 'px:hosts',
  paused: 'px:paused',
  outbox: 'px:o',
  outboxLock: 'px:o:lock',
} as const;

/** The id of a beacon. */
export function beaconId(scopeKey: string, vendor: string, uriHash: string): string {
  return `${scopeKey}|${vendor}|${uriHash}`;
}
