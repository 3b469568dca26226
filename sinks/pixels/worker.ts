/**
 * The pixels sink's background worker: fires queued beacons, so that `write()` never
 * waits for a vendor. One lane per vendor domain holds what this process will fire:
 * due beacons in order, retries by due time. A lane sends at most its concurrency at
 * once and at most its TPS cap, and stops while its circuit is open or its vendor is
 * paused; its beacons wait meanwhile, and are dead-lettered only when their deadline
 * passes.
 *
 * Before each attempt the worker takes the beacon's lease and reads its ledger (see
 * ledger.ts), so two processes that both hold a beacon (a rebalance, a takeover) fire
 * it once. Both are done for all the beacons a lane starts at once, in one state call
 * each, and a lane refills once per turn of the event loop rather than once per
 * answer, so that at thousands of beacons a second the state store sees batches.
 * Final outcomes are applied in small batches: dead letter (failed ones), ledger,
 * outbox row, then the queue entries are removed.
 *
 * Beacons queued by a process that stopped or died are taken over by whichever
 * process finds them overdue by `pixels.orphanAfterMs` (a scan of the durable queue,
 * in both its current and its earlier layout: see ledger.ts).
 */
import type { DeadLetter } from '../../schemas/types.ts';
import { MacroTemplate } from '../../src/ads/vast/macros.ts';
import { LruCache } from '../../src/core/lru-cache.ts';
import type { BeaconDispatcher } from '../../src/beacons/dispatcher.ts';
import { messageOf } from '../../src/core/errors.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import type { DeadLetterWriter } from '../../src/pipeline/runtime.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import type { Metrics } from '../../src/telemetry/metrics.ts';
import { CIRCUIT, CircuitBreaker, TokenBucket, type CircuitState } from './circuit-breaker.ts';
import type { PixelsSinkConfig, VendorDirectory, VendorIdentity } from './config.ts';
import { beaconMacros, type ContextSealer, type EventContext } from './event-context.ts';
import { cacheBusterOf } from './cache-buster.ts';
import { LEDGER, keys, legacyKeys, type BeaconJob, type DeliveryRow } from './ledger.ts';
import { completedText, type OutcomeFlusher } from './outcomes.ts';
import { decide, type RetrySettings } from './retry-policy.ts';

/** A beacon this process holds. */
export interface QueuedBeacon {
  readonly job: BeaconJob;
  /** Its member in the durable queue `queueKey` (the job's JSON; in the earlier layout, its id). */
  readonly member: string;
  readonly queueKey: string;
  /** The event's context; null for a beacon taken over from the durable queue (loaded on first use). */
  ctx: EventContext | null;
  /** True when this process queued it with its batch's contexts, and deletes them when the batch is done. */
  readonly ownsContext: boolean;
  /** Its state keys, built once: each is used at least twice per beacon. */
  readonly ledgerKey: string;
  readonly leaseKey: string;
  /** Its job's own key, in the earlier layout only (deleted when it is done). */
  readonly legacyJobKey: string | null;
}

/** A beacon to hold, its state keys built once; `ledgerKey` when the caller built it already. */
export function queuedBeacon(job: BeaconJob, member: string, ctx: EventContext | null, ownsContext: boolean, ledgerKey: string = keys.ledger(job.id)): QueuedBeacon {
  return { job, member, queueKey: keys.queue(job.host), ctx, ownsContext, ledgerKey, leaseKey: keys.lease(job.id), legacyJobKey: null };
}

/** A beacon of the earlier layout's queue (see ledger.ts), taken over. */
function legacyBeacon(job: BeaconJob): QueuedBeacon {
  return { job, member: job.id, queueKey: legacyKeys.queue(job.host), ctx: null, ownsContext: false, ledgerKey: keys.ledger(job.id), leaseKey: keys.lease(job.id), legacyJobKey: legacyKeys.job(job.id) };
}

interface Completion {
  readonly beacon: QueuedBeacon;
  readonly outcome: 'delivered' | 'failed';
  readonly reason: ReasonCode | null;
  readonly retriable: boolean;
  readonly status: number | null;
  readonly latencyMs: number;
}

/** A binary min-heap of beacons by due time. */
class DueHeap {
  readonly items: QueuedBeacon[] = [];

  push(item: QueuedBeacon): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.job.due <= a[i]!.job.due) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  peek(): QueuedBeacon | undefined {
    return this.items[0];
  }

  pop(): QueuedBeacon | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.job.due < a[m]!.job.due) m = l;
        if (r < a.length && a[r]!.job.due < a[m]!.job.due) m = r;
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
class Lane {
  readonly host: string;
  readonly vendor: VendorIdentity;
  /** Due beacons, in order; `head` is the next one. */
  ready: QueuedBeacon[] = [];
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
  /** The circuit state last written to the metric (it is written on change only). */
  reportedCircuit: CircuitState | undefined;
  /** Attempts by result not yet added to the metric: it is written once per tick, not per attempt. */
  readonly attempts = { delivered: 0, retry: 0, reject: 0 };

  constructor(host: string, vendor: VendorIdentity, config: PixelsSinkConfig) {
    this.host = host;
    this.vendor = vendor;
    this.bucket = new TokenBucket(vendor.tps);
    this.breaker = new CircuitBreaker({ failures: config.breakerFailures, cooldownMs: config.breakerCooldownMs });
  }

  pushReady(beacon: QueuedBeacon): void {
    this.ready.push(beacon);
    if (beacon.job.firstAt < this.oldestFirstAt) this.oldestFirstAt = beacon.job.firstAt;
  }

  get waiting(): number {
    return this.ready.length - this.head + this.delayed.size;
  }

  take(): QueuedBeacon | undefined {
    const item = this.ready[this.head];
    if (item === undefined) return undefined;
    this.ready[this.head++] = undefined as unknown as QueuedBeacon;
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** What the worker needs. */
export interface BeaconWorkerOptions {
  readonly config: PixelsSinkConfig;
  readonly state: StateStore;
  readonly dispatcher: BeaconDispatcher;
  readonly deadLetters: DeadLetterWriter;
  readonly outcomes: OutcomeFlusher;
  readonly vendors: VendorDirectory;
  readonly sealer: ContextSealer;
  readonly ifaKey: Buffer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly owner: string;
}

const TICK_MS = 50;
const SWEEP_MS = 1000;
const COMPLETION_BATCH = 512;

export class BeaconWorker {
  readonly #o: BeaconWorkerOptions;
  readonly #c: PixelsSinkConfig;
  readonly #retry: RetrySettings;
  readonly #leaseMs: number;
  readonly #lanes = new Map<string, Lane>();
  /** Every beacon this process holds, by id. */
  readonly #held = new Map<string, QueuedBeacon>();
  /** Beacons per vendor held here (queued, delayed or in flight). */
  readonly #depth = new Map<string, number>();
  /** Beacons left per sealed batch of contexts this process wrote (it deletes the batch when none is left). */
  readonly #ownContexts = new Map<string, number>();
  /** Sealed batches of contexts read for beacons taken over, by key: one read and one opening per batch. */
  readonly #openedContexts = new LruCache<string, Promise<Map<string, EventContext> | null>>({ maxEntries: 256, ttlMs: 60_000 });
  readonly #paused = new Set<string>();
  #completions: Completion[] = [];
  #completing: Promise<void> | undefined;
  #completionTimer: NodeJS.Timeout | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #lastSweep = 0;
  #lastScan = 0;
  #lastFlush = 0;
  #stopped = false;
  #inFlight = 0;
  /** Beacon templates, compiled once each (a vendor's template serves every impression). */
  readonly #templates = new LruCache<string, MacroTemplate>({ maxEntries: 10_000, ttlMs: 60 * 60_000 });

  constructor(options: BeaconWorkerOptions) {
    this.#o = options;
    this.#c = options.config;
    this.#retry = { baseMs: this.#c.retryBaseMs, maxDelayMs: this.#c.retryMaxDelayMs, deadlineMs: this.#c.deadlineMs, attemptMs: this.#c.timeoutMs };
    // Long enough for one attempt (redirects included) and its bookkeeping.
    this.#leaseMs = this.#c.timeoutMs + 5_000;
  }

  /** Starts the background loop. */
  start(): void {
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    this.#ticker.unref();
    void this.#refreshPaused();
  }

  /** Beacons held here plus outcomes not yet in ClickHouse: what backpressure counts. */
  get backlog(): number {
    return this.#held.size + this.#o.outcomes.unflushed;
  }

  /** True when this process already holds the beacon. */
  holds(id: string): boolean {
    return this.#held.has(id);
  }

  /** Queued beacons per vendor, in this process. */
  depth(): Record<string, number> {
    return Object.fromEntries([...this.#depth].filter(([, n]) => n > 0));
  }

  /** Takes beacons whose durable queue entries are written. */
  enqueue(beacons: readonly QueuedBeacon[]): void {
    const touched = new Set<Lane>();
    for (const beacon of beacons) {
      if (this.#held.has(beacon.job.id)) continue;
      this.#hold(beacon);
      const lane = this.#lane(beacon.job.host, beacon.job.vendor);
      if (beacon.job.due > Date.now()) lane.delayed.push(beacon);
      else lane.pushReady(beacon);
      touched.add(lane);
    }
    for (const lane of touched) this.#pump(lane);
  }

  /** Counts the beacons that share the sealed contexts under `key`, which this process wrote. */
  ownContexts(key: string, beacons: number): void {
    this.#ownContexts.set(key, (this.#ownContexts.get(key) ?? 0) + beacons);
  }

  /** Pauses a vendor here and, through the state seam, in every pipeline process. */
  async pause(vendor: string): Promise<void> {
    this.#paused.add(vendor);
    await this.#o.state.sortedAdd(keys.paused, [{ member: vendor, score: Date.now() }]);
  }

  /** Resumes a paused vendor everywhere; its queued beacons go out. */
  async resume(vendor: string): Promise<void> {
    this.#paused.delete(vendor);
    await this.#o.state.sortedRemove(keys.paused, [vendor]);
    for (const lane of this.#lanes.values()) if (lane.vendor.name === vendor) this.#pump(lane);
  }

  /** Vendors paused, as this process knows. */
  paused(): string[] {
    return [...this.#paused].sort();
  }

  /** Stops firing, waits for attempts in flight, and writes what finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#ticker);
    for (const lane of this.#lanes.values()) clearTimeout(lane.wake);
    const deadline = Date.now() + this.#c.timeoutMs + 2_000;
    while (this.#inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    clearTimeout(this.#completionTimer);
    this.#reportAttempts();
    await this.#complete();
    await this.#o.outcomes.flush();
  }

  #hold(beacon: QueuedBeacon): void {
    this.#held.set(beacon.job.id, beacon);
    this.#depth.set(beacon.job.vendor, (this.#depth.get(beacon.job.vendor) ?? 0) + 1);
  }

  #forget(beacon: QueuedBeacon): void {
    if (!this.#held.delete(beacon.job.id)) return;
    this.#depth.set(beacon.job.vendor, (this.#depth.get(beacon.job.vendor) ?? 1) - 1);
  }

  #lane(host: string, vendorName: string): Lane {
    let lane = this.#lanes.get(host);
    if (lane === undefined) {
      const vendor = this.#o.vendors.of(host);
      lane = new Lane(host, vendor.name === vendorName ? vendor : { ...vendor, name: vendorName }, this.#c);
      this.#lanes.set(host, lane);
    }
    return lane;
  }

  #metricVendor(lane: Lane): string {
    // Unknown hosts are their own vendors; one label for all of them keeps metrics bounded.
    return lane.vendor.known ? lane.vendor.name : 'other';
  }

  /** Starts as many attempts as the lane's limits allow, claiming them together. */
  #pump(lane: Lane): void {
    if (this.#stopped || this.#paused.has(lane.vendor.name)) return;
    let batch: QueuedBeacon[] | undefined;
    while (lane.head < lane.ready.length && lane.active < lane.vendor.concurrency) {
      const circuit = lane.breaker.state;
      if (circuit === 'open') {
        this.#wakeLater(lane, lane.breaker.waitMs);
        break;
      }
      const wait = lane.bucket.waitMs;
      if (wait > 0) {
        this.#wakeLater(lane, wait);
        break;
      }
      // Half-open lets one probe through; the others wait for its answer.
      if (!lane.breaker.tryAcquire()) break;
      lane.bucket.tryTake();
      (batch ??= []).push(lane.take()!);
      lane.active++;
      this.#inFlight++;
    }
    if (batch !== undefined) void this.#claim(lane, batch);
  }

  /** One attempt is over: its slot is refilled with the others freed in this turn. */
  #attemptOver(lane: Lane): void {
    lane.active--;
    this.#inFlight--;
    if (lane.refillQueued) return;
    lane.refillQueued = true;
    setImmediate(() => {
      lane.refillQueued = false;
      this.#pump(lane);
    });
  }

  #wakeLater(lane: Lane, ms: number): void {
    if (lane.wake !== undefined) return;
    lane.wake = setTimeout(() => {
      lane.wake = undefined;
      this.#pump(lane);
    }, Math.max(1, ms));
    lane.wake.unref();
  }

  /** Later: back in the lane's delayed queue (the lease or the state store said not now). */
  #later(lane: Lane, beacon: QueuedBeacon, ms: number): void {
    beacon.job.due = Date.now() + ms;
    lane.delayed.push(beacon);
  }

  /**
   * Takes the leases of `batch` and reads their ledgers (one state call each), then
   * fires those that are this process's to fire and still queued.
   */
  async #claim(lane: Lane, batch: readonly QueuedBeacon[]): Promise<void> {
    const { state, owner } = this.#o;
    let leases: Array<string | null>;
    let ledgers: Array<string | null>;
    try {
      leases = await state.setIfAbsentMany(batch.map((b) => ({ key: b.leaseKey, value: owner })), this.#leaseMs);
      ledgers = await state.getMany(batch.map((b) => b.ledgerKey));
    } catch (error) {
      this.#o.logger.warn({ err: messageOf(error), vendor: lane.vendor.name, beacons: batch.length }, 'beacon queue unreachable; the beacons wait');
      for (const beacon of batch) {
        lane.breaker.release(); // nothing was sent
        this.#later(lane, beacon, 1_000);
        this.#attemptOver(lane);
      }
      return;
    }
    const unleased: string[] = [];
    const stale: QueuedBeacon[] = [];
    batch.forEach((beacon, i) => {
      const lease = leases[i];
      if (lease !== null && lease !== owner) {
        lane.breaker.release();
        this.#later(lane, beacon, this.#leaseMs);
        this.#attemptOver(lane);
      } else if (ledgers[i] !== LEDGER.queued) {
        // Done elsewhere (delivered, failed, suppressed), or never fully queued: its
        // queue member, if it is still there, goes too.
        lane.breaker.release();
        this.#forget(beacon);
        unleased.push(beacon.leaseKey);
        stale.push(beacon);
        this.#attemptOver(lane);
      } else {
        void this.#attempt(lane, beacon);
      }
    });
    if (unleased.length > 0) await state.delete(unleased).catch(() => 0);
    if (stale.length > 0) await this.#dequeue(stale).catch(() => undefined);
  }

  /** Removes beacons' members from the durable queue (and, in the earlier layout, their jobs). */
  async #dequeue(beacons: readonly QueuedBeacon[]): Promise<void> {
    const byQueue = new Map<string, string[]>();
    const jobKeys: string[] = [];
    for (const beacon of beacons) {
      const members = byQueue.get(beacon.queueKey);
      if (members === undefined) byQueue.set(beacon.queueKey, [beacon.member]);
      else members.push(beacon.member);
      if (beacon.legacyJobKey !== null) jobKeys.push(beacon.legacyJobKey);
    }
    await Promise.all([...byQueue].map(([queue, members]) => this.#o.state.sortedRemove(queue, members)));
    if (jobKeys.length > 0) await this.#o.state.delete(jobKeys);
  }

  /** One attempt of a claimed beacon: fire it, then finish it or schedule its retry. */
  async #attempt(lane: Lane, beacon: QueuedBeacon): Promise<void> {
    try {
      await this.#fire(lane, beacon);
    } finally {
      this.#attemptOver(lane);
    }
  }

  async #fire(lane: Lane, beacon: QueuedBeacon): Promise<void> {
    const { state, metrics } = this.#o;
    const job = beacon.job;
    let ctx = beacon.ctx;
    if (ctx === null) {
      try {
        ctx = await this.#loadContext(job);
      } catch (error) {
        lane.breaker.release();
        this.#o.logger.warn({ err: messageOf(error), vendor: job.vendor }, 'beacon queue unreachable; the beacon waits');
        this.#later(lane, beacon, 1_000);
        return;
      }
      if (ctx === null) {
        lane.breaker.release();
        this.#finish({ beacon, outcome: 'failed', reason: 'SINK_PIXEL_CONTEXT_LOST', retriable: false, status: null, latencyMs: 0 });
        return;
      }
      beacon.ctx = ctx;
    }
    const url = this.#template(job.template).expand(beaconMacros(ctx, job.vendor, this.#c.ifa, this.#o.ifaKey, job.macros, cacheBusterOf(job.id)));
    const result = await this.#o.dispatcher.fire(url, { device: ctx.device });
    job.attempts++;
    const vendorLabel = this.#metricVendor(lane);
    lane.attempts[result.outcome]++;
    metrics.pixelAttemptSeconds.observe({ vendor: vendorLabel }, result.latencyMs / 1000);
    lane.breaker.record(result.outcome !== 'retry');
    const circuit = lane.breaker.state;
    if (lane.vendor.known && circuit !== lane.reportedCircuit) {
      lane.reportedCircuit = circuit;
      metrics.pixelCircuit.set({ vendor: vendorLabel }, CIRCUIT[circuit]);
    }
    const now = Date.now();
    const decision = decide(result, job.attempts, job.firstAt, now, this.#retry);
    if (decision.kind === 'delivered') {
      this.#finish({ beacon, outcome: 'delivered', reason: null, retriable: false, status: result.status, latencyMs: result.latencyMs });
      return;
    }
    if (decision.kind === 'fail') {
      this.#finish({ beacon, outcome: 'failed', reason: decision.reason, retriable: decision.retriable, status: result.status, latencyMs: result.latencyMs });
      return;
    }
    job.due = decision.at;
    lane.delayed.push(beacon);
    try {
      // The durable queue follows (its score is the due time), so a takeover after a
      // crash keeps the backoff.
      await state.sortedAdd(beacon.queueKey, [{ member: beacon.member, score: job.due }]);
      await state.delete([beacon.leaseKey]);
    } catch {
      // The lease expires by itself; the local schedule goes on.
    }
  }

  #template(template: string): MacroTemplate {
    let compiled = this.#templates.get(template);
    if (compiled === undefined) {
      compiled = new MacroTemplate(template);
      this.#templates.set(template, compiled);
    }
    return compiled;
  }

  /** The context of a beacon taken over: from its batch's sealed contexts, or (earlier layout) its event's. */
  async #loadContext(job: BeaconJob): Promise<EventContext | null> {
    const { state, sealer } = this.#o;
    if (job.ctx === undefined) {
      const key = legacyKeys.context(job.eventId);
      const blob = await state.get(key);
      return blob === null ? null : sealer.open<EventContext>(blob, key);
    }
    const batchKey = job.ctx;
    let opened = this.#openedContexts.get(batchKey);
    if (opened === undefined) {
      opened = state.get(batchKey).then((blob) => {
        const contexts = blob === null ? null : sealer.open<EventContext[]>(blob, batchKey);
        return contexts === null ? null : new Map(contexts.map((c) => [c.eventId, c]));
      });
      this.#openedContexts.set(batchKey, opened);
      opened.catch(() => this.#openedContexts.delete(batchKey)); // unreachable: read again next time
    }
    return (await opened)?.get(job.eventId) ?? null;
  }

  #finish(completion: Completion): void {
    this.#completions.push(completion);
    if (this.#completions.length >= COMPLETION_BATCH) void this.#complete();
    else if (this.#completionTimer === undefined) {
      this.#completionTimer = setTimeout(() => {
        this.#completionTimer = undefined;
        void this.#complete();
      }, 5);
      this.#completionTimer.unref();
    }
  }

  /** Applies finished beacons: dead letters, ledger, outbox, then the queue. */
  #complete(): Promise<void> {
    if (this.#completing !== undefined) return this.#completing.then(() => (this.#completions.length > 0 ? this.#complete() : undefined));
    const batch = this.#completions;
    if (batch.length === 0) return Promise.resolve();
    this.#completions = [];
    this.#completing = this.#apply(batch).finally(() => {
      this.#completing = undefined;
    });
    return this.#completing;
  }

  async #apply(batch: readonly Completion[]): Promise<void> {
    const { state, metrics } = this.#o;
    const now = Date.now();
    try {
      const failed = batch.filter((c) => c.outcome === 'failed');
      if (failed.length > 0) {
        const result = await this.#o.deadLetters.write(failed.map((c) => this.#deadLetter(c, now)));
        if (!result.ok) throw result.error;
      }
      const completedAt = completedText(now);
      const rows: DeliveryRow[] = batch.map((c) => ({
        event_id: c.beacon.job.eventId,
        vendor: c.beacon.job.vendor,
        event_type: c.beacon.job.eventType,
        uri_hash: c.beacon.job.uriHash,
        outcome: c.outcome,
        reason: c.reason ?? '',
        http_status: c.status ?? 0,
        attempts: c.beacon.job.attempts,
        latency_ms: Math.round(c.latencyMs),
        completed_at: completedAt,
      }));
      await this.#o.outcomes.add(rows);
      await state.setMany(
        batch.map((c) => ({ key: c.beacon.ledgerKey, value: c.outcome === 'delivered' ? LEDGER.delivered : LEDGER.failed })),
        this.#c.ledgerTtlMs,
      );
      await this.#dequeue(batch.map((c) => c.beacon));
      // Leases are left to expire: with the ledger final, no one fires the beacon again.
      const done: string[] = [];
      for (const c of batch) {
        const batchKey = c.beacon.job.ctx;
        if (!c.beacon.ownsContext || batchKey === undefined) continue;
        const left = (this.#ownContexts.get(batchKey) ?? 1) - 1;
        if (left > 0) this.#ownContexts.set(batchKey, left);
        else {
          this.#ownContexts.delete(batchKey);
          done.push(batchKey);
        }
      }
      if (done.length > 0) await state.delete(done);
    } catch (error) {
      // Try again shortly: a beacon whose outcome is not recorded stays held (and counted).
      this.#o.logger.warn({ err: messageOf(error), beacons: batch.length }, 'recording beacon outcomes failed; retrying');
      setTimeout(() => {
        this.#completions.push(...batch);
        void this.#complete();
      }, 1_000).unref();
      return;
    }
    // One increment per (vendor, outcome, reason) of the batch rather than one per beacon.
    const counted = new Map<string, { labels: { vendor: string; outcome: string; reason: string }; n: number }>();
    for (const c of batch) {
      const lane = this.#lanes.get(c.beacon.job.host);
      const vendor = lane === undefined ? 'other' : this.#metricVendor(lane);
      const reason = c.reason ?? '';
      const key = `${vendor}\n${c.outcome}\n${reason}`;
      const entry = counted.get(key);
      if (entry === undefined) counted.set(key, { labels: { vendor, outcome: c.outcome, reason }, n: 1 });
      else entry.n++;
      this.#forget(c.beacon);
    }
    for (const { labels, n } of counted.values()) metrics.pixelBeacons.inc(labels, n);
  }

  #deadLetter(c: Completion, now: number): DeadLetter {
    const job = c.beacon.job;
    const ctx = c.beacon.ctx;
    return {
      code: c.reason ?? 'SINK_PIXEL_RETRIES_EXHAUSTED',
      stage: 'sinks/pixels',
      message: `Beacon to ${job.host} for ${job.eventType} failed after ${job.attempts} attempt(s)${c.status === null ? '' : `, last HTTP ${c.status}`} (${c.reason ?? 'unknown'}).`,
      retriable: c.retriable,
      attempts: job.attempts,
      firstFailedAt: job.firstAt,
      deadLetteredAt: now,
      source: ctx === null ? { topic: '', partition: -1, offset: -1 } : { topic: ctx.source.topic, partition: ctx.source.partition, offset: Number(ctx.source.offset) },
      eventId: job.eventId,
      eventType: job.eventType,
      vendor: job.vendor,
      originalKey: ctx?.originalKey === null || ctx === null ? null : Buffer.from(ctx.originalKey, 'base64'),
      originalValue: ctx === null ? Buffer.alloc(0) : Buffer.from(ctx.originalValue, 'base64'),
    };
  }

  /** Adds the attempts counted since the last call to the metric. */
  #reportAttempts(): void {
    for (const lane of this.#lanes.values()) {
      const a = lane.attempts;
      if (a.delivered + a.retry + a.reject === 0) continue;
      const vendor = this.#metricVendor(lane);
      for (const result of ['delivered', 'retry', 'reject'] as const) {
        if (a[result] > 0) this.#o.metrics.pixelAttempts.inc({ vendor, result }, a[result]);
        a[result] = 0;
      }
    }
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = Date.now();
    this.#reportAttempts();
    for (const lane of this.#lanes.values()) {
      let moved = false;
      for (let top = lane.delayed.peek(); top !== undefined && top.job.due <= now; top = lane.delayed.peek()) {
        lane.pushReady(lane.delayed.pop()!);
        moved = true;
      }
      if (moved) this.#pump(lane);
    }
    if (now - this.#lastSweep >= SWEEP_MS) {
      this.#lastSweep = now;
      this.#sweep(now);
      void this.#refreshPaused();
    }
    if (now - this.#lastFlush >= this.#c.outcomeFlushMs) {
      this.#lastFlush = now;
      void this.#o.outcomes.flush();
    }
    if (now - this.#lastScan >= Math.max(TICK_MS, this.#c.orphanAfterMs / 2)) {
      this.#lastScan = now;
      void this.#scan(now);
    }
  }

  /** Gives up beacons that waited past their deadline (vendor paused, circuit open, TPS backlog). */
  #sweep(now: number): void {
    const expiresBefore = now + this.#c.timeoutMs - this.#c.deadlineMs;
    for (const lane of this.#lanes.values()) {
      if (lane.vendor.known) this.#o.metrics.pixelQueueDepth.set({ vendor: lane.vendor.name }, this.#depth.get(lane.vendor.name) ?? 0);
      if (lane.oldestFirstAt >= expiresBefore) continue;
      const keep: QueuedBeacon[] = [];
      let expired = 0;
      let oldest = Number.POSITIVE_INFINITY;
      for (let i = lane.head; i < lane.ready.length; i++) {
        const beacon = lane.ready[i]!;
        if (beacon.job.firstAt < expiresBefore) {
          expired++;
          this.#finish({
            beacon,
            outcome: 'failed',
            reason: beacon.job.attempts === 0 ? 'SINK_PIXEL_DEADLINE_EXCEEDED' : 'SINK_PIXEL_RETRIES_EXHAUSTED',
            retriable: true,
            status: null,
            latencyMs: 0,
          });
        } else {
          keep.push(beacon);
          if (beacon.job.firstAt < oldest) oldest = beacon.job.firstAt;
        }
      }
      if (expired > 0) {
        lane.ready = keep;
        lane.head = 0;
      }
      lane.oldestFirstAt = oldest;
    }
  }

  async #refreshPaused(): Promise<void> {
    try {
      const members = await this.#o.state.sortedRange(keys.paused, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      const now = new Set(members.map((m) => m.member));
      const resumed = [...this.#paused].filter((v) => !now.has(v));
      this.#paused.clear();
      for (const v of now) this.#paused.add(v);
      for (const lane of this.#lanes.values()) if (resumed.includes(lane.vendor.name)) this.#pump(lane);
    } catch {
      // Keep the last known set.
    }
  }

  /** Takes over queued beacons overdue by `orphanAfterMs`: their process stopped or died. */
  async #scan(now: number): Promise<void> {
    try {
      await this.#scanQueues(keys.hosts, keys.queue, now, async (_queue, due) => {
        const adopted: QueuedBeacon[] = [];
        for (const { member, score } of due) {
          const job = JSON.parse(member) as BeaconJob;
          if (this.#held.has(job.id)) continue;
          job.due = Math.min(score, now);
          adopted.push(queuedBeacon(job, member, null, false));
        }
        return adopted;
      });
      await this.#scanQueues(legacyKeys.hosts, legacyKeys.queue, now, async (queue, due) => {
        const ids = due.map((d) => d.member).filter((id) => !this.#held.has(id));
        if (ids.length === 0) return [];
        const jobs = await this.#o.state.getMany(ids.map((id) => legacyKeys.job(id)));
        const gone = ids.filter((_, i) => jobs[i] === null);
        if (gone.length > 0) await this.#o.state.sortedRemove(queue, gone);
        return jobs.flatMap((text) => {
          if (text === null) return [];
          const job = JSON.parse(text) as BeaconJob;
          job.due = Math.min(job.due, now);
          return [legacyBeacon(job)];
        });
      });
    } catch (error) {
      this.#o.logger.warn({ err: messageOf(error) }, 'scanning the beacon queue failed; trying again later');
    }
  }

  /** One layout's scan: each domain's overdue members, read into beacons by `adopt`. */
  async #scanQueues(
    hostsKey: string,
    queueOf: (host: string) => string,
    now: number,
    adopt: (queue: string, due: Array<{ member: string; score: number }>) => Promise<QueuedBeacon[]>,
  ): Promise<void> {
    const { state } = this.#o;
    const hosts = await state.sortedRange(hostsKey, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1000);
    for (const { member: host, score } of hosts) {
      if (this.#stopped) return;
      const vendor = this.#o.vendors.of(host);
      const lane = this.#lanes.get(host);
      if (this.#paused.has(vendor.name) || lane?.breaker.state === 'open') continue;
      const queue = queueOf(host);
      const due = await state.sortedRange(queue, Number.NEGATIVE_INFINITY, now - this.#c.orphanAfterMs, 500);
      if (due.length === 0) {
        if (score < now - this.#c.deadlineMs) await state.sortedRemove(hostsKey, [host]);
        continue;
      }
      const adopted = await adopt(queue, due);
      if (adopted.length > 0) {
        this.#o.logger.info({ host, beacons: adopted.length }, 'took over queued beacons of a stopped pipeline process');
        this.enqueue(adopted);
      }
    }
  }
}
