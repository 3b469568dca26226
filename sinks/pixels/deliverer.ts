/**
 * Beacon delivery: a consumer group on `ads.beacons` (the beacons the pipeline recorded)
 * and `ads.beacons.retry` (beacons waiting for another attempt) that fires each vendor
 * beacon once, as a trustworthy SSAI server does, and records every outcome.
 *
 * - It takes records as they come and works on many at once. A record's offset is
 *   committed once every beacon in it is settled (commit-tracker.ts): its outcome
 *   written to `beacon_deliveries` and the ledger, or the beacon handed on to the retry
 *   topic. Kafka, not the state store, holds the work; the state store holds only the
 *   ledger (ledger.ts): one claim before an attempt, one final entry after.
 * - One lane per vendor domain (lanes.ts) sends at most the vendor's concurrency at
 *   once and at most its TPS cap, and stops while its circuit is open or its vendor is
 *   paused.
 * - A beacon that needs another attempt (5xx, 429, timeout, network), or whose vendor
 *   is paused or failing, is written to the retry topic, keyed by its domain, with the
 *   time of its next attempt: the pipeline's work moves on whatever one vendor does.
 *   Read back from the retry topic, a beacon waits in memory until it is due, and
 *   while its vendor is paused or its circuit open.
 * - A beacon that fails for good, or whose deadline (`pixels.deadlineMs`, first
 *   queued + an hour by default) passes, goes to the dead-letter topic with its
 *   SINK_PIXEL_* code and its raw event, from which `quartile dlq replay` re-fires it.
 * - It holds at most `pixels.maxPending` beacons of each topic in memory, and stops
 *   reading that topic while it holds more.
 * - On a rebalance the records of a partition taken away are left to its new owner;
 *   the ledger keeps the two from both firing a beacon.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { DeadLetter } from '../../schemas/types.ts';
import { MacroTemplate } from '../../src/ads/vast/macros.ts';
import { BeaconDispatcher, type BeaconOutcome } from '../../src/beacons/dispatcher.ts';
import type { EngineContext } from '../../src/core/engine.ts';
import { QuartileError, isQuartileError, messageOf } from '../../src/core/errors.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import { REPLAY_HEADER, type DeadLetterWriter } from '../../src/pipeline/runtime.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import type { Metrics } from '../../src/telemetry/metrics.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import type { ConsumedRecord, Consumer, RecordBatch, TopicPartition, Transport } from '../../src/transport/transport.ts';
import { loadHashKey } from '../../processors/hash/hash-keys.ts';
import { DeadLetterSink } from '../dead-letter/sink.ts';
import { BinarySealer, packBatch, unpackBatch, type BatchBeacon, type BeaconBatchContent, type BeaconTarget } from './beacon-batch.ts';
import { cacheBusterOf } from './cache-buster.ts';
import { CIRCUIT } from './circuit-breaker.ts';
import { CommitTracker, type Ticket } from './commit-tracker.ts';
import { VendorDirectory, pixelsSinkConfig, type PixelsSinkConfig } from './config.ts';
import { beaconMacros, deliveryMacros, loadQueueKey, type EventContext } from './event-context.ts';
import { Lane, type EventDelivery, type HeldBeacon } from './lanes.ts';
import { CLAIM_PREFIX, LEDGER, beaconId, claimAnswer, earlierKeys, keys, type DeliveryRow } from './ledger.ts';
import { OutcomeWriter } from './outcomes.ts';
import { utc } from '../clickhouse/rows.ts';
import { decide, type RetrySettings } from './retry-policy.ts';
import { takeOverEarlierQueue } from './upgrade.ts';

interface Completion {
  readonly beacon: HeldBeacon;
  readonly outcome: 'delivered' | 'failed';
  readonly reason: ReasonCode | null;
  readonly retriable: boolean;
  readonly status: number | null;
  readonly latencyMs: number;
}

/** A beacon decided not to fire (no consent, an invalid URI, a lost context): it only gets its row. */
interface Verdict {
  readonly id: string;
  readonly ledgerKey: string;
  readonly ctx: EventContext;
  readonly target: BeaconTarget;
  readonly reason: ReasonCode;
  readonly ticket: Ticket;
}

/** What delivery needs besides the engine context. */
export interface BeaconDelivererOptions {
  /** The consumer group (default `pixels.groupId`). */
  readonly groupId?: string;
  /** Where dead letters go (default the dead-letter topic). */
  readonly deadLetters?: DeadLetterWriter;
}

const TICK_MS = 50;
const COMMIT_MS = 200;
const SWEEP_MS = 1000;
const UPGRADE_SCAN_MS = 30_000;
const COMPLETION_BATCH = 512;
/** Compiled URI templates kept at most. */
const MAX_TEMPLATES = 10_000;
/** Contexts per retry record, as per work record. */
const CONTEXTS_PER_RECORD = 250;
/** Records a fetch hands over at once (each holds up to 250 events' beacons). */
const RECORDS_PER_BATCH = 16;

/** Verdicts that suppress a beacon (consent); any other verdict fails it (an invalid URI, a lost context). */
const SUPPRESSIONS: ReadonlySet<ReasonCode> = new Set(['SINK_PIXEL_NO_CONSENT', 'SINK_PIXEL_CONSENT_MISSING', 'SINK_PIXEL_CONSENT_INVALID', 'SINK_PIXEL_VENDOR_UNKNOWN']);

/** Which of the two topics a beacon came from, for the per-topic bound on what is held. */
type Source = 'work' | 'retry';

export class BeaconDeliverer {
  readonly #c: PixelsSinkConfig;
  readonly #groupId: string;
  readonly #transport: Transport;
  readonly #state: StateStore;
  readonly #codec: RecordCodec;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #vendors: VendorDirectory;
  readonly #sealer: BinarySealer;
  readonly #dispatcher: BeaconDispatcher;
  readonly #deadLetters: DeadLetterWriter;
  readonly #outcomes: OutcomeWriter;
  readonly #ifaKey: Buffer;
  readonly #ctx: EngineContext;
  readonly #owner: string;
  /** Claims are `c:<owner>:<n>`, n counting the beacons this process has held. */
  readonly #claimPrefix: string;
  #claims = 0;
  readonly #retry: RetrySettings;
  readonly #leaseMs: number;
  readonly #tracker = new CommitTracker();
  readonly #lanes = new Map<string, Lane>();
  /** Beacons held per vendor (waiting, backing off, in flight, being recorded). */
  readonly #depth = new Map<string, number>();
  /**
   * Every beacon held, by id: a beacon that comes again while held (a replayed event
   * recorded anew, a record read twice after a rebalance) is not fired twice here. The
   * copy is settled at once; the record of the one held stays uncommitted until it is
   * done, so the work stays covered should this process die.
   */
  readonly #heldIds = new Map<string, HeldBeacon>();
  readonly #heldBy: Record<Source, number> = { work: 0, retry: 0 };
  readonly #pausedTopics = new Set<Source>();
  readonly #paused = new Set<string>();
  /** Beacons waiting to be written to the retry topic, by domain. */
  #spills = new Map<string, HeldBeacon[]>();
  #spilling: Promise<void> | undefined;
  #completions: Completion[] = [];
  #completionTimer: NodeJS.Timeout | undefined;
  /** Completions being recorded (they run concurrently and share inserts). */
  readonly #applying = new Set<Promise<void>>();
  /**
   * Compiled URI templates. A plain map, emptied when it outgrows MAX_TEMPLATES (compiling
   * one again takes microseconds): an LRU moved an entry and read the clock on every
   * beacon, since the beacons of one event take turns between vendors' templates.
   */
  readonly #templates = new Map<string, MacroTemplate>();
  #consumer: Consumer | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #lastCommit = 0;
  #lastSweep = 0;
  #lastUpgradeScan = Number.NEGATIVE_INFINITY;
  #upgrading: Promise<void> | undefined;
  #inFlight = 0;
  #stopped = false;

  constructor(ctx: EngineContext, options: BeaconDelivererOptions = {}) {
    const config = pixelsSinkConfig(ctx.config);
    this.#c = config;
    this.#ctx = ctx;
    this.#groupId = options.groupId ?? config.groupId;
    this.#transport = ctx.backends.transport;
    this.#state = ctx.backends.state;
    this.#codec = ctx.codec;
    this.#metrics = ctx.metrics;
    this.#logger = ctx.logger.child({ component: 'sinks/pixels' });
    this.#vendors = new VendorDirectory(config);
    this.#sealer = new BinarySealer(loadQueueKey(ctx.config));
    // A vendor's connections, per origin, are as many as its beacons in flight (lanes.ts).
    this.#dispatcher = new BeaconDispatcher({
      timeoutMs: config.timeoutMs,
      maxRedirects: config.maxRedirects,
      allowPrivateNetwork: config.allowPrivateNetwork,
      userAgent: config.userAgent,
      connectionsPerOrigin: (host) => this.#vendors.of(host).concurrency,
    });
    this.#deadLetters = options.deadLetters ?? new DeadLetterSink(ctx.backends.transport, ctx.codec);
    this.#outcomes = new OutcomeWriter({ warehouse: ctx.backends.warehouse, logger: this.#logger, lingerMs: config.outcomeFlushMs });
    this.#ifaKey = loadHashKey(ctx.config).secret;
    this.#owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#claimPrefix = `${CLAIM_PREFIX}${this.#owner}:`;
    this.#retry = { baseMs: config.retryBaseMs, maxDelayMs: config.retryMaxDelayMs, deadlineMs: config.deadlineMs, attemptMs: config.timeoutMs };
    // A claim covers one attempt (redirects included) and the recording of its outcome.
    this.#leaseMs = config.timeoutMs + config.outcomeFlushMs + 10_000;
  }

  /** Joins the group and starts delivering. */
  async start(): Promise<void> {
    await this.#refreshPaused();
    const consumer = this.#transport.createConsumer({
      groupId: this.#groupId,
      topics: [TOPICS.beacons, TOPICS.beaconRetries],
      fromBeginning: true,
      // Handlers only hand records over, so every partition may fetch at once.
      partitionsConcurrently: 64,
      maxBatchRecords: RECORDS_PER_BATCH,
      onRebalance: (event) => {
        for (const tp of event.revoked) this.#tracker.revoke(tp.topic, tp.partition);
      },
    });
    this.#consumer = consumer;
    await consumer.run((batch) => this.#take(batch));
    this.#ticker = setInterval(() => this.#tick(), TICK_MS);
    this.#ticker.unref();
  }

  /** Beacons held in this process. */
  get held(): number {
    return this.#heldBy.work + this.#heldBy.retry;
  }

  /** Beacons held per vendor in this process (waiting, backing off or in flight). */
  queueDepth(): Record<string, number> {
    return Object.fromEntries([...this.#depth].filter(([, n]) => n > 0));
  }

  /** Pauses a vendor here and, through the state seam, in every delivering process. */
  async pause(vendor: string): Promise<void> {
    this.#paused.add(vendor);
    await this.#state.sortedAdd(keys.paused, [{ member: vendor, score: Date.now() }]);
    for (const lane of this.#lanes.values()) if (lane.vendor.name === vendor) this.#pump(lane);
  }

  /** Resumes a paused vendor everywhere; what waited for it goes out. */
  async resume(vendor: string): Promise<void> {
    this.#paused.delete(vendor);
    await this.#state.sortedRemove(keys.paused, [vendor]);
    for (const lane of this.#lanes.values()) if (lane.vendor.name === vendor) this.#pump(lane);
  }

  /** Vendors paused, as this process knows. */
  paused(): string[] {
    return [...this.#paused].sort();
  }

  /** Stops fetching, lets attempts in flight finish and be recorded, commits what is settled, leaves the group. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#ticker);
    for (const lane of this.#lanes.values()) clearTimeout(lane.wake);
    const consumer = this.#consumer;
    if (consumer !== undefined) consumer.pause(consumer.assignment());
    const deadline = Date.now() + this.#c.timeoutMs + 2_000;
    while (this.#inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    clearTimeout(this.#completionTimer);
    this.#reportAttempts();
    const recording = this.#complete();
    await this.#outcomes.flush();
    await Promise.race([Promise.all([recording, ...this.#applying]), new Promise((r) => setTimeout(r, 5_000).unref())]);
    await this.#flushSpills().catch(() => undefined);
    await this.#upgrading;
    await this.#commit(true);
    await consumer?.stop();
    this.#outcomes.stop();
    await this.#dispatcher.close();
  }

  // ── Taking records ────────────────────────────────────────────────────────────────

  async #take(batch: RecordBatch): Promise<void> {
    if (this.#stopped) return;
    const source: Source = batch.topic === TOPICS.beaconRetries ? 'retry' : 'work';
    for (const record of batch.records) {
      let content: BeaconBatchContent;
      try {
        content = await this.#open(record);
      } catch (error) {
        const ticket = this.#tracker.open(record.topic, record.partition, Number(record.offset), 1);
        if (ticket !== undefined) void this.#undeliverable(record, error, ticket);
        continue;
      }
      const ticket = this.#tracker.open(record.topic, record.partition, Number(record.offset), content.beacons.length);
      if (ticket === undefined) continue;
      const verdicts: Verdict[] = [];
      const fire: HeldBeacon[] = [];
      const events: Array<EventDelivery | undefined> = [];
      // A beacon an operator replayed from the dead-letter topic gets a deadline of its own, from now.
      const replayedAt = record.headers[REPLAY_HEADER] === undefined ? undefined : Date.now();
      for (const b of content.beacons) {
        const target = content.targets[b.target]!;
        const ctx = content.contexts[b.ctx]!;
        const id = beaconId(target.scope === 'event' ? ctx.eventId : `ai:${ctx.adInstanceId}`, target.vendor, target.uriHash);
        if (b.verdict !== null || target.host === null) verdicts.push({ id, ledgerKey: keys.ledger(id), ctx, target, reason: b.verdict ?? 'SINK_PIXEL_URL_INVALID', ticket });
        else {
          const times = replayedAt === undefined ? b : { ...b, firstAt: replayedAt, due: replayedAt };
          fire.push(this.#beacon(id, ctx, (events[b.ctx] ??= this.#eventDelivery(ctx)), target, target.host, times, ticket, source === 'retry'));
        }
      }
      if (verdicts.length > 0) void this.#recordVerdicts(verdicts);
      // A retry waits, maybe long (its vendor paused): one done meanwhile (a replay another
      // process finished) need not wait with it. The pipeline's work is claimed at once anyway.
      const now = Date.now();
      const touched = new Set<Lane>();
      for (const beacon of source === 'retry' ? await this.#notDone(fire) : fire) {
        // A copy held for a partition since taken away does not count: this one replaces it.
        const held = this.#heldIds.get(beacon.id);
        if (held !== undefined && !held.ticket.abandoned) {
          this.#tracker.settle(ticket);
          continue;
        }
        const lane = this.#hold(beacon, now);
        if (lane !== undefined) touched.add(lane);
      }
      for (const lane of touched) this.#pump(lane);
    }
    this.#bound();
  }

  /** The beacons whose ledger is not final; the others' tickets are settled. Unreadable ledger: all of them. */
  async #notDone(beacons: HeldBeacon[]): Promise<HeldBeacon[]> {
    if (beacons.length === 0) return beacons;
    let ledger: Array<string | null>;
    try {
      ledger = await this.#state.getMany(beacons.map((b) => b.ledgerKey));
    } catch {
      return beacons;
    }
    return beacons.filter((b, i) => {
      const answer = claimAnswer(ledger[i]!, b.claim);
      if (answer === 'final' || (answer === 'failed' && !b.replay)) {
        this.#tracker.settle(b.ticket);
        return false;
      }
      return true;
    });
  }

  async #open(record: ConsumedRecord): Promise<BeaconBatchContent> {
    if (record.value === null) throw new QuartileError('SINK_PIXEL_CONTEXT_LOST', 'A beacon record has no value.', { stage: 'sinks/pixels' });
    const header = await this.#codec.decode(record.topic as typeof TOPICS.beacons, record.value);
    const plain = this.#sealer.open(header.sealed, record.key?.toString() ?? '');
    if (plain === null) {
      throw new QuartileError('SINK_PIXEL_CONTEXT_LOST', 'A beacon record cannot be decrypted: it was sealed under another pixels.queueKey, or altered.', { stage: 'sinks/pixels' });
    }
    return unpackBatch(plain);
  }

  #eventDelivery(ctx: EventContext): EventDelivery {
    return { macros: deliveryMacros(ctx, this.#c.userAgent), headers: this.#dispatcher.headersFor(ctx.device) };
  }

  #beacon(id: string, ctx: EventContext, event: EventDelivery, target: BeaconTarget, host: string, b: BatchBeacon, ticket: Ticket, fromRetry: boolean): HeldBeacon {
    const claim = `${this.#claimPrefix}${(this.#claims++).toString(36)}`;
    return { id, ledgerKey: keys.ledger(id), claim, claimed: false, ctx, event, target, host, firstAt: b.firstAt, attempts: b.attempts, due: b.due, replay: b.replay, ticket, fromRetry };
  }

  /** Holds a beacon: in its lane, or on its way to the retry topic. Returns the lane to pump. */
  #hold(beacon: HeldBeacon, now: number): Lane | undefined {
    this.#heldIds.set(beacon.id, beacon);
    this.#heldBy[beacon.fromRetry ? 'retry' : 'work']++;
    this.#depth.set(beacon.target.vendor, (this.#depth.get(beacon.target.vendor) ?? 0) + 1);
    if (beacon.firstAt + this.#c.deadlineMs < now + this.#c.timeoutMs) {
      void this.#giveUp([beacon]);
      return undefined;
    }
    const lane = this.#lane(beacon.host, beacon.target.vendor);
    if (!beacon.fromRetry && this.#blocked(lane)) {
      this.#spill(beacon, this.#blockedUntil(lane, now));
      return undefined;
    }
    if (beacon.due > now) lane.delayed.push(beacon);
    else lane.pushReady(beacon);
    return lane;
  }

  /** Lets go of a beacon: its outcome is recorded, it moved on, or its partition was taken away. */
  #release(beacon: HeldBeacon, settle: boolean): void {
    if (this.#heldIds.get(beacon.id) === beacon) this.#heldIds.delete(beacon.id);
    this.#heldBy[beacon.fromRetry ? 'retry' : 'work']--;
    this.#depth.set(beacon.target.vendor, (this.#depth.get(beacon.target.vendor) ?? 1) - 1);
    if (settle) this.#tracker.settle(beacon.ticket);
  }

  /** A record that cannot be read goes to the dead-letter topic whole, so nothing is lost unseen. */
  async #undeliverable(record: ConsumedRecord, error: unknown, ticket: Ticket): Promise<void> {
    const code: ReasonCode = isQuartileError(error) ? error.code : 'SINK_PIXEL_CONTEXT_LOST';
    this.#logger.error({ topic: record.topic, partition: record.partition, offset: record.offset, err: messageOf(error) }, 'a beacon record cannot be read; it goes to the dead-letter topic');
    const now = Date.now();
    for (;;) {
      const result = await this.#deadLetters.write([
        {
          code,
          stage: 'sinks/pixels',
          message: `A record of ${record.topic} cannot be read: ${messageOf(error)}`,
          retriable: false,
          attempts: 0,
          firstFailedAt: now,
          deadLetteredAt: now,
          source: { topic: record.topic, partition: record.partition, offset: Number(record.offset) },
          eventId: null,
          eventType: null,
          vendor: null,
          originalKey: record.key,
          originalValue: record.value ?? Buffer.alloc(0),
        },
      ]);
      if (result.ok || this.#stopped) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    this.#metrics.pixelBeacons.inc({ vendor: 'other', outcome: 'failed', reason: code });
    this.#tracker.settle(ticket);
  }

  /** Rows (and ledger entries) of beacons the pipeline decided not to fire, unless a replay already recorded them. */
  async #recordVerdicts(verdicts: readonly Verdict[]): Promise<void> {
    for (let wait = 1_000; ; wait = Math.min(wait * 2, 30_000)) {
      try {
        const ledger = await this.#state.getMany(verdicts.map((v) => v.ledgerKey));
        const fresh = verdicts.filter((_, i) => ledger[i] === null || ledger[i]!.startsWith(CLAIM_PREFIX) || ledger[i] === LEDGER.queuedBefore);
        if (fresh.length > 0) {
          const completedAt = utc(Date.now());
          await this.#outcomes.write(
            fresh.map((v) => {
              const failed = !SUPPRESSIONS.has(v.reason);
              return { event_id: v.ctx.eventId, vendor: v.target.vendor, event_type: v.ctx.eventType, uri_hash: v.target.uriHash, outcome: failed ? 'failed' : 'suppressed', reason: v.reason, http_status: 0, attempts: 0, latency_ms: 0, completed_at: completedAt };
            }),
          );
          await this.#state.setMany(
            fresh.map((v) => ({ key: v.ledgerKey, value: SUPPRESSIONS.has(v.reason) ? LEDGER.suppressed : LEDGER.failed })),
            this.#c.ledgerTtlMs,
          );
          for (const v of fresh) {
            const failed = !SUPPRESSIONS.has(v.reason);
            this.#metrics.pixelBeacons.inc({ vendor: failed ? 'other' : this.#metricVendor(v.target.vendor, v.target.host), outcome: failed ? 'failed' : 'suppressed', reason: v.reason });
          }
        }
        for (const v of verdicts) this.#tracker.settle(v.ticket);
        return;
      } catch (error) {
        if (this.#stopped) return; // unsettled: the record is read again
        this.#logger.warn({ err: messageOf(error), beacons: verdicts.length }, 'recording suppressed beacons failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  // ── Lanes ─────────────────────────────────────────────────────────────────────────

  #lane(host: string, vendorName: string): Lane {
    let lane = this.#lanes.get(host);
    if (lane === undefined) {
      const vendor = this.#vendors.of(host);
      lane = new Lane(host, vendor.name === vendorName ? vendor : { ...vendor, name: vendorName }, this.#c);
      this.#lanes.set(host, lane);
    }
    return lane;
  }

  #metricVendor(vendor: string, host: string | null): string {
    // Unknown hosts are their own vendors; one label for all of them keeps metrics bounded.
    return host !== null && this.#vendors.of(host).known ? vendor : 'other';
  }

  #blocked(lane: Lane): boolean {
    return this.#paused.has(lane.vendor.name) || lane.breaker.state === 'open';
  }

  /** When a blocked lane's beacon is worth trying again: the circuit's probe, or soon for a pause. */
  #blockedUntil(lane: Lane, now: number): number {
    return now + (lane.breaker.state === 'open' ? lane.breaker.waitMs : 0);
  }

  /** Starts as many attempts as the lane's limits allow, claiming them together. */
  #pump(lane: Lane): void {
    if (this.#stopped) return;
    if (this.#blocked(lane)) {
      // The pipeline's work does not wait for one vendor: it moves to the retry topic.
      const now = Date.now();
      const until = this.#blockedUntil(lane, now);
      for (const beacon of lane.extract((b) => !b.fromRetry || b.ticket.abandoned)) {
        if (beacon.ticket.abandoned) this.#release(beacon, false);
        else this.#spill(beacon, until);
      }
      // Blocked by its circuit, not a pause: always a wake-up. The circuit may have turned
      // half-open while the spill above ran (a wake-up fires about when the cooldown
      // ends, and moving thousands of beacons takes milliseconds): asking the state again
      // here once found it no longer open, set no wake-up, and left the lane idle for good.
      if (!this.#paused.has(lane.vendor.name)) this.#wakeLater(lane, lane.breaker.waitMs);
      return;
    }
    let batch: HeldBeacon[] | undefined;
    while (lane.head < lane.ready.length && lane.active < lane.vendor.concurrency) {
      const next = lane.ready[lane.head]!;
      if (next.ticket.abandoned) {
        lane.take();
        this.#release(next, false);
        continue;
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
    if (batch !== undefined) void this.#claimAndFire(lane, batch);
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

  /** Later, in this process: back in the lane's delayed queue (another process holds its claim, or the state store is down). */
  #later(lane: Lane, beacon: HeldBeacon, ms: number): void {
    beacon.due = Date.now() + ms;
    lane.delayed.push(beacon);
  }

  /** Claims `batch` in the ledger (one state call), then fires those that are this process's to fire. */
  async #claimAndFire(lane: Lane, batch: readonly HeldBeacon[]): Promise<void> {
    let answers: Array<string | null>;
    try {
      answers = await this.#state.setIfAbsentMany(batch.map((b) => ({ key: b.ledgerKey, value: b.claim })), this.#leaseMs);
    } catch (error) {
      this.#logger.warn({ err: messageOf(error), vendor: lane.vendor.name, beacons: batch.length }, 'beacon ledger unreachable; the beacons wait');
      for (const beacon of batch) this.#notNow(lane, beacon, 1_000);
      return;
    }
    const takeOver: HeldBeacon[] = [];
    const earlier: HeldBeacon[] = [];
    batch.forEach((beacon, i) => {
      switch (claimAnswer(answers[i]!, beacon.claim)) {
        case 'mine':
          beacon.claimed = true;
          void this.#attempt(lane, beacon);
          return;
        case 'failed':
          // Failed for good; fired again only when the operator replays its event.
          if (beacon.replay) takeOver.push(beacon);
          else this.#alreadyDone(lane, beacon);
          return;
        case 'final':
          this.#alreadyDone(lane, beacon);
          return;
        case 'queued-before':
          earlier.push(beacon);
          return;
        case 'busy':
          this.#notNow(lane, beacon, this.#leaseMs);
      }
    });
    if (earlier.length > 0) {
      // Queued by an earlier version, which may still be firing it under its own lease.
      try {
        const leases = await this.#state.setIfAbsentMany(earlier.map((b) => ({ key: earlierKeys.lease(b.id), value: this.#owner })), this.#leaseMs);
        earlier.forEach((beacon, i) => (leases[i] === null ? takeOver.push(beacon) : this.#notNow(lane, beacon, this.#leaseMs)));
      } catch {
        for (const beacon of earlier) this.#notNow(lane, beacon, 1_000);
      }
    }
    if (takeOver.length > 0) {
      try {
        await this.#state.setMany(takeOver.map((b) => ({ key: b.ledgerKey, value: b.claim })), this.#leaseMs);
        for (const beacon of takeOver) {
          beacon.claimed = true;
          void this.#attempt(lane, beacon);
        }
      } catch {
        for (const beacon of takeOver) this.#notNow(lane, beacon, 1_000);
      }
    }
  }

  /** Nothing was sent: the beacon waits in this process and its slot is freed. */
  #notNow(lane: Lane, beacon: HeldBeacon, ms: number): void {
    lane.breaker.release();
    this.#later(lane, beacon, ms);
    this.#attemptOver(lane);
  }

  /** Its ledger is final already (a replay, or another process finished it). */
  #alreadyDone(lane: Lane, beacon: HeldBeacon): void {
    lane.breaker.release();
    this.#release(beacon, true);
    this.#attemptOver(lane);
  }

  /** One attempt of a claimed beacon: fire it; {@link #attempted} hears how it went. */
  #attempt(lane: Lane, beacon: HeldBeacon): void {
    let url: string;
    try {
      url = this.#template(beacon.target.template).expand(beaconMacros(beacon.ctx, beacon.event.macros, beacon.target.vendor, this.#c.ifa, this.#ifaKey, beacon.target.macros, cacheBusterOf(beacon.id)));
    } catch (error) {
      this.#attemptOver(lane);
      throw error;
    }
    // The event's EventDelivery is the request (its headers): one per event, not per beacon.
    this.#dispatcher.send(url, beacon.event, this.#attempted, beacon);
  }

  /** How an attempt went: the beacon is finished, or handed to the retry topic. Made once: the dispatcher calls it with the beacon. */
  readonly #attempted = (result: BeaconOutcome, beacon: HeldBeacon): void => {
    const lane = this.#lanes.get(beacon.host)!;
    try {
      beacon.attempts++;
      const labels = (lane.labels ??= { vendor: this.#metricVendor(lane.vendor.name, lane.host) });
      lane.attempts[result.outcome]++;
      (lane.attemptSeconds ??= this.#metrics.pixelAttemptSeconds.labels(labels)).observe(result.latencyMs / 1000);
      lane.breaker.record(result.outcome !== 'retry');
      const circuit = lane.breaker.state;
      if (lane.vendor.known && circuit !== lane.reportedCircuit) {
        lane.reportedCircuit = circuit;
        this.#metrics.pixelCircuit.set(labels, CIRCUIT[circuit]);
      }
      const decision = decide(result, beacon.attempts, beacon.firstAt, Date.now(), this.#retry);
      if (decision.kind === 'delivered') this.#finish({ beacon, outcome: 'delivered', reason: null, retriable: false, status: result.status, latencyMs: result.latencyMs });
      else if (decision.kind === 'fail') this.#finish({ beacon, outcome: 'failed', reason: decision.reason, retriable: decision.retriable, status: result.status, latencyMs: result.latencyMs });
      else this.#spill(beacon, decision.at);
    } finally {
      this.#attemptOver(lane);
    }
  };

  #template(template: string): MacroTemplate {
    let compiled = this.#templates.get(template);
    if (compiled === undefined) {
      compiled = new MacroTemplate(template);
      if (this.#templates.size >= MAX_TEMPLATES) this.#templates.clear();
      this.#templates.set(template, compiled);
    }
    return compiled;
  }

  // ── Handing beacons on to the retry topic ─────────────────────────────────────────

  /**
   * Queues a beacon for the retry topic, to be tried again from `due`. It stops counting
   * as held for deduplication at once: the retry may be read back before this copy is let
   * go, and must not be taken for a duplicate of it (the ledger's claims still keep the
   * two from both firing).
   */
  #spill(beacon: HeldBeacon, due: number): void {
    if (this.#heldIds.get(beacon.id) === beacon) this.#heldIds.delete(beacon.id);
    beacon.due = due;
    const list = this.#spills.get(beacon.host);
    if (list === undefined) this.#spills.set(beacon.host, [beacon]);
    else list.push(beacon);
  }

  /** Writes the queued beacons to the retry topic, one record per domain (and per 250 events). */
  #flushSpills(): Promise<void> {
    if (this.#spilling !== undefined || this.#spills.size === 0) return this.#spilling ?? Promise.resolve();
    const spills = this.#spills;
    this.#spills = new Map();
    this.#spilling = (async () => {
      for (const [host, all] of spills) {
        const beacons = await this.#stillToFire(
          all.filter((b) => {
            if (!b.ticket.abandoned) return true;
            this.#release(b, false);
            return false;
          }),
        );
        for (let i = 0; i < beacons.length; ) {
          const chunk: HeldBeacon[] = [];
          const contexts = new Map<EventContext, number>();
          while (i < beacons.length && (contexts.size < CONTEXTS_PER_RECORD || contexts.has(beacons[i]!.ctx))) {
            const b = beacons[i++]!;
            if (!contexts.has(b.ctx)) contexts.set(b.ctx, contexts.size);
            chunk.push(b);
          }
          try {
            // Its claim goes first: whoever reads the retry (this process too) claims it afresh.
            const claimed = chunk.filter((b) => b.claimed);
            if (claimed.length > 0) {
              await this.#state.delete(claimed.map((b) => b.ledgerKey)).catch(() => 0);
              for (const b of claimed) b.claimed = false;
            }
            await this.#sendRetry(host, chunk, contexts);
            for (const b of chunk) this.#release(b, true);
          } catch (error) {
            this.#logger.warn({ err: messageOf(error), host, beacons: chunk.length }, 'beacons for the retry topic not written yet; retrying');
            for (const b of chunk) this.#spill(b, b.due);
          }
        }
      }
    })().finally(() => {
      this.#spilling = undefined;
    });
    return this.#spilling;
  }

  /**
   * The held beacons whose ledger is not final; the others are let go. A paused vendor's
   * work moves to the retry topic unclaimed, and some of it may be done already (a replay
   * after a crash): it need not wait for the vendor.
   */
  async #stillToFire(beacons: HeldBeacon[]): Promise<HeldBeacon[]> {
    const open = new Set(await this.#notDone(beacons));
    return beacons.filter((b) => {
      if (open.has(b)) return true;
      this.#release(b, false); // its ticket was settled by #notDone
      return false;
    });
  }

  async #sendRetry(host: string, beacons: readonly HeldBeacon[], contexts: ReadonlyMap<EventContext, number>): Promise<void> {
    const targets = new Map<BeaconTarget, number>();
    const batchBeacons: BatchBeacon[] = beacons.map((b) => {
      let target = targets.get(b.target);
      if (target === undefined) targets.set(b.target, (target = targets.size));
      return { ctx: contexts.get(b.ctx)!, target, firstAt: b.firstAt, attempts: b.attempts, due: b.due, replay: b.replay, verdict: null };
    });
    let due = Number.POSITIVE_INFINITY;
    for (const b of beacons) if (b.due < due) due = b.due;
    const content: BeaconBatchContent = { targets: [...targets.keys()], contexts: [...contexts.keys()], beacons: batchBeacons };
    const value = await this.#codec.encode(TOPICS.beaconRetries, { queuedAt: Date.now(), due, host, events: contexts.size, beacons: beacons.length, sealed: this.#sealer.seal(packBatch(content), host) });
    await this.#transport.send(TOPICS.beaconRetries, [{ key: host, value }]);
  }

  // ── Outcomes ──────────────────────────────────────────────────────────────────────

  /**
   * Gives up beacons whose deadline passed without an attempt that settled them. Their
   * ledger is read first: a beacon waiting here may be done already (a replay of work
   * another process finished, or is finishing under its claim), and must not be
   * recorded as failed over its outcome.
   */
  async #giveUp(beacons: readonly HeldBeacon[]): Promise<void> {
    let ledger: Array<string | null>;
    try {
      ledger = await this.#state.getMany(beacons.map((b) => b.ledgerKey));
    } catch {
      ledger = beacons.map(() => null);
    }
    beacons.forEach((beacon, i) => {
      const answer = claimAnswer(ledger[i]!, beacon.claim);
      if (answer === 'final' || answer === 'busy' || (answer === 'failed' && !beacon.replay)) {
        this.#release(beacon, true);
        return;
      }
      this.#finish({
        beacon,
        outcome: 'failed',
        reason: beacon.attempts === 0 ? 'SINK_PIXEL_DEADLINE_EXCEEDED' : 'SINK_PIXEL_RETRIES_EXHAUSTED',
        retriable: true,
        status: null,
        latencyMs: 0,
      });
    });
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

  #complete(): Promise<void> {
    const batch = this.#completions;
    if (batch.length === 0) return Promise.resolve();
    this.#completions = [];
    const applying = this.#apply(batch).finally(() => this.#applying.delete(applying));
    this.#applying.add(applying);
    return applying;
  }

  /** Records finished beacons: dead letters, rows, then the ledger; then their records may be committed. */
  async #apply(batch: readonly Completion[]): Promise<void> {
    const now = Date.now();
    for (let wait = 1_000; ; wait = Math.min(wait * 2, 30_000)) {
      try {
        const failed = batch.filter((c) => c.outcome === 'failed');
        if (failed.length > 0) {
          const result = await this.#deadLetters.write(await Promise.all(failed.map((c) => this.#deadLetter(c, now))));
          if (!result.ok) throw result.error;
        }
        const completedAt = utc(now);
        await this.#outcomes.write(
          batch.map((c): DeliveryRow => ({
            event_id: c.beacon.ctx.eventId,
            vendor: c.beacon.target.vendor,
            event_type: c.beacon.ctx.eventType,
            uri_hash: c.beacon.target.uriHash,
            outcome: c.outcome,
            reason: c.reason ?? '',
            http_status: c.status ?? 0,
            attempts: c.beacon.attempts,
            latency_ms: Math.round(c.latencyMs),
            completed_at: completedAt,
          })),
        );
        await this.#state.setMany(
          batch.map((c) => ({ key: c.beacon.ledgerKey, value: c.outcome === 'delivered' ? LEDGER.delivered : LEDGER.failed })),
          this.#c.ledgerTtlMs,
        );
        break;
      } catch (error) {
        // Unsettled, the beacons' records are not committed: a stop leaves them to be read again.
        if (this.#stopped) return;
        this.#logger.warn({ err: messageOf(error), beacons: batch.length }, 'recording beacon outcomes failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    // One increment per (vendor, outcome, reason) of the batch rather than one per beacon.
    const counted = new Map<string, { labels: { vendor: string; outcome: string; reason: string }; n: number }>();
    for (const c of batch) {
      const vendor = this.#metricVendor(c.beacon.target.vendor, c.beacon.host);
      const reason = c.reason ?? '';
      const key = `${vendor}\n${c.outcome}\n${reason}`;
      const entry = counted.get(key);
      if (entry === undefined) counted.set(key, { labels: { vendor, outcome: c.outcome, reason }, n: 1 });
      else entry.n++;
      this.#release(c.beacon, true);
    }
    for (const { labels, n } of counted.values()) this.#metrics.pixelBeacons.inc(labels, n);
  }

  /**
   * The dead letter of a beacon that failed for good. Its original value is the beacon
   * itself, as a BeaconBatch of one marked as a replay: `quartile dlq replay` sends it
   * back to ads.beacons, and delivery fires it again even though its ledger says failed.
   */
  async #deadLetter(c: Completion, now: number): Promise<DeadLetter> {
    const b = c.beacon;
    const ctx = b.ctx;
    const key = `dlq:${b.id}`;
    const content: BeaconBatchContent = {
      targets: [b.target],
      contexts: [ctx],
      beacons: [{ ctx: 0, target: 0, firstAt: now, attempts: 0, due: now, replay: true, verdict: null }],
    };
    const original = await this.#codec.encode(TOPICS.beacons, { queuedAt: now, due: now, host: b.host, events: 1, beacons: 1, sealed: this.#sealer.seal(packBatch(content), key) });
    return {
      code: c.reason ?? 'SINK_PIXEL_RETRIES_EXHAUSTED',
      stage: 'sinks/pixels',
      message: `Beacon to ${b.host} for ${ctx.eventType} failed after ${b.attempts} attempt(s)${c.status === null ? '' : `, last HTTP ${c.status}`} (${c.reason ?? 'unknown'}).`,
      retriable: c.retriable,
      attempts: b.attempts,
      firstFailedAt: b.firstAt,
      deadLetteredAt: now,
      source: { topic: b.ticket.topic, partition: b.ticket.partition, offset: b.ticket.offset },
      eventId: ctx.eventId,
      eventType: ctx.eventType,
      vendor: b.target.vendor,
      originalKey: Buffer.from(key),
      originalValue: original,
    };
  }

  // ── The clock ─────────────────────────────────────────────────────────────────────

  #tick(): void {
    if (this.#stopped) return;
    const now = Date.now();
    this.#reportAttempts();
    for (const lane of this.#lanes.values()) {
      let moved = false;
      for (let top = lane.delayed.peek(); top !== undefined && top.due <= now; top = lane.delayed.peek()) {
        lane.pushReady(lane.delayed.pop()!);
        moved = true;
      }
      if (moved || this.#stalled(lane)) this.#pump(lane);
    }
    void this.#flushSpills();
    if (now - this.#lastCommit >= COMMIT_MS) {
      this.#lastCommit = now;
      void this.#commit(false);
    }
    this.#bound();
    if (now - this.#lastSweep >= SWEEP_MS) {
      this.#lastSweep = now;
      this.#sweep(now);
      void this.#refreshPaused();
    }
    if (now - this.#lastUpgradeScan >= UPGRADE_SCAN_MS && this.#upgrading === undefined) {
      this.#lastUpgradeScan = now;
      this.#upgrading = takeOverEarlierQueue({ state: this.#state, transport: this.#transport, warehouse: this.#ctx.backends.warehouse, codec: this.#codec, sealer: this.#sealer, config: this.#ctx.config, logger: this.#logger })
        .catch((error: unknown) => this.#logger.warn({ err: messageOf(error) }, 'taking over beacons an earlier version queued failed; trying again later'))
        .finally(() => {
          this.#upgrading = undefined;
        });
    }
  }

  /**
   * A lane that holds due beacons but has nothing in flight, no wake-up set and no
   * refill queued: nothing else will pump it. Every path that frees a lane is meant to
   * pump it again; one did not (a circuit that turned half-open during #pump's spill,
   * fixed there), and the vendor-outage chaos scenario ended with a lane of 8,500 due
   * beacons and no attempt for two minutes after the vendor recovered. The tick is the
   * backstop against the next such path: the lane is pumped (an open circuit's lane
   * thereby gets its wake-up for the probe), a half-open circuit's probe permission
   * held with nothing in flight is given back, and the log says it happened.
   */
  #stalled(lane: Lane): boolean {
    // A paused vendor's lane is pumped when it resumes; an open circuit's sets its wake-up when pumped.
    if (lane.active > 0 || lane.wake !== undefined || lane.refillQueued || lane.head >= lane.ready.length || this.#paused.has(lane.vendor.name)) return false;
    const now = Date.now();
    if (now - lane.backstopLoggedAt >= 60_000) {
      lane.backstopLoggedAt = now;
      this.#logger.warn({ vendor: lane.vendor.name, host: lane.host, due: lane.ready.length - lane.head, circuit: lane.breaker.state, probing: lane.breaker.probing }, 'a lane with due beacons was idle; the tick pumps it');
    }
    if (lane.breaker.state !== 'open' && lane.breaker.probing) lane.breaker.release();
    return true;
  }

  /** Commits the offsets whose records are settled. `final`: also when nothing moved since a failed commit. */
  async #commit(final: boolean): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    const due = this.#tracker.due();
    if (due.length === 0) return;
    try {
      await consumer.commit(due);
      this.#tracker.acknowledge(due);
    } catch (error) {
      // A rebalance is under way: the next owner reads a few settled records again, which the ledger makes harmless.
      if (final) this.#logger.warn({ err: messageOf(error) }, 'committing beacon offsets failed');
    }
  }

  /** Stops reading a topic while this process holds more than `pixels.maxPending` of its beacons. */
  #bound(): void {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#stopped) return;
    for (const source of ['work', 'retry'] as const) {
      const held = this.#heldBy[source];
      const topic = source === 'work' ? TOPICS.beacons : TOPICS.beaconRetries;
      const partitions = (): TopicPartition[] => consumer.assignment().filter((tp) => tp.topic === topic);
      if (!this.#pausedTopics.has(source) && held > this.#c.maxPending) {
        this.#pausedTopics.add(source);
        consumer.pause(partitions());
      } else if (this.#pausedTopics.has(source) && held < this.#c.maxPending * 0.8) {
        this.#pausedTopics.delete(source);
        consumer.resume(partitions());
      }
    }
  }

  /** Adds the attempts counted since the last call to the metric. */
  #reportAttempts(): void {
    for (const lane of this.#lanes.values()) {
      const a = lane.attempts;
      if (a.delivered + a.retry + a.reject === 0) continue;
      const vendor = this.#metricVendor(lane.vendor.name, lane.host);
      for (const result of ['delivered', 'retry', 'reject'] as const) {
        if (a[result] > 0) this.#metrics.pixelAttempts.inc({ vendor, result }, a[result]);
        a[result] = 0;
      }
    }
  }

  /** Gives up beacons that waited past their deadline (vendor paused, circuit open, TPS backlog). */
  #sweep(now: number): void {
    const expiresBefore = now + this.#c.timeoutMs - this.#c.deadlineMs;
    for (const lane of this.#lanes.values()) if (lane.vendor.known) this.#metrics.pixelQueueDepth.set({ vendor: lane.vendor.name }, this.#depth.get(lane.vendor.name) ?? 0);
    for (const lane of this.#lanes.values()) {
      if (lane.oldestFirstAt >= expiresBefore) continue;
      let oldest = Number.POSITIVE_INFINITY;
      const expired = lane.extract((b) => {
        if (b.firstAt < expiresBefore) return true;
        if (b.firstAt < oldest) oldest = b.firstAt;
        return false;
      });
      const due: HeldBeacon[] = [];
      for (const beacon of expired) {
        if (beacon.ticket.abandoned) this.#release(beacon, false);
        else due.push(beacon);
      }
      if (due.length > 0) void this.#giveUp(due);
      lane.oldestFirstAt = oldest;
    }
  }

  async #refreshPaused(): Promise<void> {
    try {
      const members = await this.#state.sortedRange(keys.paused, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      const now = new Set(members.map((m) => m.member));
      const changed = [...this.#paused].filter((v) => !now.has(v)).concat([...now].filter((v) => !this.#paused.has(v)));
      this.#paused.clear();
      for (const v of now) this.#paused.add(v);
      for (const lane of this.#lanes.values()) if (changed.includes(lane.vendor.name)) this.#pump(lane);
    } catch {
      // Keep the last known set.
    }
  }
}
