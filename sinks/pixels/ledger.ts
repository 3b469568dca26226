/**
 * The pixels sink's layout in the state seam (Redis in production): the beacon ledger,
 * the durable queue, and the outcome outbox. Every pipeline process shares it.
 *
 * | key | holds | lifetime |
 * |---|---|---|
 * | `px:l:<id>` | the ledger: `p` queued, `d` delivered, `f` failed, `s` suppressed | `pipeline.dedupeTtlMs` |
 * | `px:jq:<host>` | sorted set: the queued beacons of one vendor domain, by due time; each member is the job itself (JSON) | while not empty |
 * | `px:jh` | sorted set: domains with queued beacons | — |
 * | `px:c:<batch>` | the device contexts of one written batch's events, sealed (AES-256-GCM, see event-context.ts) | `pixels.deadlineMs` |
 * | `px:k:<id>` | the lease of whoever is firing the beacon now | one attempt |
 * | `px:paused` | sorted set: paused vendors | until resumed |
 * | `px:o` | sorted set: batches of outcome rows (JSON arrays) waiting for ClickHouse `beacon_deliveries` | until written |
 *
 * A beacon id is `<eventId>|<vendor>|<uriHash>` (progress offsets: `ai:<adInstanceId>|…`,
 * as each fires once per ad play). Exactly once per beacon rests on two checks before
 * every attempt: take the lease (set-if-absent), then read the ledger, which must say
 * `p`. A beacon whose ledger says `d` is never fired again, whoever replays what.
 *
 * Why jobs live in the queue and contexts per batch: a beacon used to have a job key
 * and its event a context key of their own, each written when queued and deleted when
 * done. At thousands of beacons a second those were half of the state operations and a
 * sealing per event. Now a queued beacon costs one queue member and its ledger entry,
 * and a written batch one sealed blob. The member is written once: a retry moves its
 * score (the due time), so a beacon taken over after a crash starts counting attempts
 * again from zero, while its deadline still counts from when it was first queued.
 *
 * Earlier versions queued ids in `px:q:<host>` (domains in `px:hosts`), the job in
 * `px:j:<id>` and the context in `px:e:<eventId>`. That layout is still scanned and
 * taken over, so beacons a process of an earlier version left queued are not lost in
 * an upgrade; nothing writes it any more. It has its own keys because an earlier
 * version scanning a member it cannot read would drop it as gone.
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
  /** The state key of its event's sealed context (`px:c:<batch>`); absent in the earlier layout, whose key is `px:e:<eventId>`. */
  readonly ctx?: string;
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
  lease: (id: string): string => `px:k:${id}`,
  queue: (host: string): string => `px:jq:${host}`,
  hosts: 'px:jh',
  contexts: (batch: string): string => `px:c:${batch}`,
  paused: 'px:paused',
  outbox: 'px:o',
  outboxLock: 'px:o:lock',
} as const;

/** The keys of the earlier layout, scanned for takeover only (see above). */
export const legacyKeys = {
  job: (id: string): string => `px:j:${id}`,
  context: (eventId: string): string => `px:e:${eventId}`,
  queue: (host: string): string => `px:q:${host}`,
  hosts: 'px:hosts',
} as const;

/** The id of a beacon. */
export function beaconId(scopeKey: string, vendor: string, uriHash: string): string {
  return `${scopeKey}|${vendor}|${uriHash}`;
}
