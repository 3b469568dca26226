/**
 * What beacon delivery holds in memory: each beacon it read (held-beacon), and one lane
 * per vendor domain with the beacons due now in order, those waiting for a later time,
 * and the domain's limits (concurrency, TPS cap, circuit breaker).
 */
import type { MacroValues } from '../../src/ads/vast/macros.ts';
import type { BeaconTarget } from './beacon-batch.ts';
import { CircuitBreaker, TokenBucket, type CircuitState } from './circuit-breaker.ts';
import type { PixelsSinkConfig, VendorIdentity } from './config.ts';
import type { EventContext } from './event-context.ts';
import type { Ticket } from './commit-tracker.ts';

/** What firing an event's beacons takes of the event, made once when its record is read. */
export interface EventDelivery {
  /** Its macro values as beacons expand them (deliveryMacros). */
  readonly macros: MacroValues;
  /** The server-side request headers for its device (BeaconDispatcher.headersFor). */
  readonly headers: Readonly<Record<string, string>>;
}

/** A beacon this process holds: read from a record, waiting, in flight or backing off. */
export interface HeldBeacon {
  readonly id: string;
  /** Its ledger key, built once: it is claimed, then written. */
  readonly ledgerKey: string;
  /** The claim this copy of the beacon puts in the ledger (unique per copy, see ledger.ts). */
  readonly claim: string;
  /** The ledger holds its claim now. */
  claimed: boolean;
  readonly ctx: EventContext;
  /** What its event gives every beacon it fires, made once per event and shared by its beacons. */
  readonly event: EventDelivery;
  readonly target: BeaconTarget;
  readonly host: string;
  /** When it was first queued (epoch ms): its deadline counts from here. */
  readonly firstAt: number;
  attempts: number;
  /** Next attempt (epoch ms). */
  due: number;
  /** Its event came back through `quartile dlq replay`. */
  readonly replay: boolean;
  /** The record it came from, which it settles once done or handed on. */
  readonly ticket: Ticket;
  /**
   * Read from the retry topic: it waits here while its vendor is paused or its circuit
   * open. A beacon of the pipeline's work moves to the retry topic instead, so the work
   * partition is not held up by one vendor.
   */
  readonly fromRetry: boolean;
}

/** A binary min-heap of beacons by due time. */
export class DueHeap {
  readonly items: HeldBeacon[] = [];

  push(item: HeldBeacon): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.due <= a[i]!.due) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  peek(): HeldBeacon | undefined {
    return this.items[0];
  }

  pop(): HeldBeacon | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.due < a[m]!.due) m = l;
        if (r < a.length && a[r]!.due < a[m]!.due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }

  get size(): number {
    return this.items.length;
  }
}

/** One vendor domain. */
export class Lane {
  readonly host: string;
  readonly vendor: VendorIdentity;
  /** Due beacons, in order; `head` is the next one. */
  ready: HeldBeacon[] = [];
  head = 0;
  /**
   * No beacon in `ready` was first queued before this (a lower bound, lowered on every
   * push): the deadline sweep skips the lane while even this one is within its deadline,
   * rather than reading a backlog of a million beacons every second.
   */
  oldestFirstAt = Number.POSITIVE_INFINITY;
  readonly delayed = new DueHeap();
  /** Attempts in flight (claiming, firing or recording), at most the vendor's concurrency. */
  active = 0;
  readonly bucket: TokenBucket;
  readonly breaker: CircuitBreaker;
  wake: NodeJS.Timeout | undefined;
  /** A refill is due at the end of this turn of the event loop. */
  refillQueued = false;
  /** When the tick last reported pumping this lane as a backstop (see the deliverer's #stalled). */
  backstopLoggedAt = Number.NEGATIVE_INFINITY;
  /** The circuit state last written to the metric (it is written on change only). */
  reportedCircuit: CircuitState | undefined;
  /** Attempts by result not yet added to the metric: it is written once per tick, not per attempt. */
  readonly attempts = { delivered: 0, retry: 0, reject: 0 };
  /** The lane's metric labels, made on first use rather than per attempt. */
  labels: { readonly vendor: string } | undefined;
  /** Its attempt-latency histogram, bound to its labels once (prom-client's labels()). */
  attemptSeconds: { observe(seconds: number): void } | undefined;

  constructor(host: string, vendor: VendorIdentity, config: PixelsSinkConfig) {
    this.host = host;
    this.vendor = vendor;
    this.bucket = new TokenBucket(vendor.tps);
    this.breaker = new CircuitBreaker({ failures: config.breakerFailures, cooldownMs: config.breakerCooldownMs });
  }

  pushReady(beacon: HeldBeacon): void {
    this.ready.push(beacon);
    if (beacon.firstAt < this.oldestFirstAt) this.oldestFirstAt = beacon.firstAt;
  }

  get waiting(): number {
    return this.ready.length - this.head + this.delayed.size;
  }

  take(): HeldBeacon | undefined {
    const item = this.ready[this.head];
    if (item === undefined) return undefined;
    this.ready[this.head++] = undefined as unknown as HeldBeacon;
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns the waiting beacons `which` picks (the rest keep their order). */
  extract(which: (beacon: HeldBeacon) => boolean): HeldBeacon[] {
    const out: HeldBeacon[] = [];
    const keep: HeldBeacon[] = [];
    for (let i = this.head; i < this.ready.length; i++) {
      const beacon = this.ready[i]!;
      (which(beacon) ? out : keep).push(beacon);
    }
    if (out.length > 0) {
      this.ready = keep;
      this.head = 0;
    }
    return out;
  }
}
