/**
 * The beacon ledger in the state seam (Redis in production), which every delivering
 * process shares. The work itself lives in the event log (`ads.beacons`, and
 * `ads.beacons.retry` for beacons waiting for another attempt); the state store holds
 * only what makes each beacon fire once.
 *
 * | key | holds | lifetime |
 * |---|---|---|
 * | `px:l:<id>` | `d` delivered, `f` failed, `s` suppressed; or `c:<owner>:<n>`, the claim of the process firing it now | final: `pipeline.dedupeTtlMs`; claim: one attempt and its recording |
 * | `px:paused` | sorted set: paused vendors | until resumed |
 *
 * A beacon id is `<eventId>|<vendor>|<uriHash>` (progress offsets: `ai:<adInstanceId>|…`,
 * as each fires once per ad play). Before every attempt a process claims the beacon:
 * set-if-absent of `c:<owner>:<n>` on its ledger key, for all the beacons it starts at
 * once in one call. The answer says what to do: absent or this very claim, fire; a
 * final state, never fire again (whoever replays what); any other claim, wait until
 * it expires (a rebalance handed the work over while another process, or another copy
 * of the beacon in this one, was still firing it). A final outcome replaces the claim;
 * a beacon handed on to the retry topic gives its claim up.
 *
 * Earlier versions kept a durable queue in the state store beside the ledger, with
 * `p` for a queued beacon and a lease of its own (`px:k:<id>`); upgrade.ts moves what
 * such a version left queued into the event log, and a `p` is claimed like an absent
 * entry once that lease is free.
 */

/** Final ledger states, and the queued state of earlier versions. */
export const LEDGER = { delivered: 'd', failed: 'f', suppressed: 's', queuedBefore: 'p' } as const;

/** Prefix of a claim: `c:<owner>`. */
export const CLAIM_PREFIX = 'c:';

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
  paused: 'px:paused',
} as const;

/** The keys of the durable queue earlier versions kept in the state store (upgrade.ts). */
export const earlierKeys = {
  /** Current-layout queue of one domain: members are jobs (JSON), scores due times. */
  queue: (host: string): string => `px:jq:${host}`,
  hosts: 'px:jh',
  /** The sealed contexts of one written batch. */
  contexts: (batch: string): string => `px:c:${batch}`,
  lease: (id: string): string => `px:k:${id}`,
  outbox: 'px:o',
  outboxLock: 'px:o:lock',
  /** The oldest layout: queue members are beacon ids, jobs and contexts have keys of their own. */
  legacyQueue: (host: string): string => `px:q:${host}`,
  legacyHosts: 'px:hosts',
  legacyJob: (id: string): string => `px:j:${id}`,
  legacyContext: (eventId: string): string => `px:e:${eventId}`,
} as const;

/** A job as earlier versions queued it in the state store. */
export interface EarlierJob {
  readonly id: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly vendor: string;
  readonly host: string;
  readonly template: string;
  readonly uriHash: string;
  readonly macros?: Readonly<Record<string, string | number>>;
  readonly firstAt: number;
  /** The key of its sealed context (current layout); absent in the oldest layout. */
  readonly ctx?: string;
  readonly attempts: number;
  readonly due: number;
}

/** The id of a beacon. */
export function beaconId(scopeKey: string, vendor: string, uriHash: string): string {
  return `${scopeKey}|${vendor}|${uriHash}`;
}

/** What a claim's answer means for the claimer. */
export type ClaimAnswer = 'mine' | 'final' | 'failed' | 'busy' | 'queued-before';

/** Reads the answer of a set-if-absent of `claim` (null: this call claimed it; '' for a reader that claims nothing). */
export function claimAnswer(previous: string | null, claim: string): ClaimAnswer {
  if (previous === null || previous === claim) return 'mine';
  if (previous === LEDGER.delivered || previous === LEDGER.suppressed) return 'final';
  if (previous === LEDGER.failed) return 'failed';
  if (previous === LEDGER.queuedBefore) return 'queued-before';
  return 'busy';
}
