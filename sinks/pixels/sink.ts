/**
 * The pixels sink: fires third-party vendor beacons (the ad's VAST tracking URIs, DV,
 * IAS, Nielsen…) server-side, as a trustworthy SSAI server does: the IAB server-side
 * headers (X-Device-IP, X-Device-User-Agent…), macros expanded, consent respected,
 * each beacon once.
 *
 * `write()` never waits for a vendor, so a slow vendor never stalls the other sinks.
 * It selects each event's beacons (select-beacons.ts), gates them on consent
 * (consent.ts), and records the work durably in the state seam (ledger.ts): the
 * batch's event contexts, sealed together, each beacon's job in its vendor domain's
 * queue, and the ledger entries, last. Only then does it answer `delivered`, so the
 * runtime commits an offset only once its beacons are recorded. A background worker
 * (worker.ts) fires them, with retries, per-domain limits and circuit breakers, and
 * records each final outcome in `beacon_deliveries`; failed beacons go to the
 * dead-letter topic.
 *
 * When more beacons are held than `pixels.maxPending` (a vendor paused or down for a
 * long time, ClickHouse down), `write()` answers `retry`: the partition waits rather
 * than memory growing.
 *
 * Replays: a beacon whose ledger says delivered, failed or suppressed is not queued
 * again when its event is read again after a crash or rebalance. A failed one is
 * queued again when its event comes back through `quartile dlq replay` (the record
 * carries the replay header): that is an operator asking for it.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { BeaconDispatcher } from '../../src/beacons/dispatcher.ts';
import { QuartileError, messageOf } from '../../src/core/errors.ts';
import type { EngineContext } from '../../src/core/engine.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import type { PipelineEvent, PipelineOutput } from '../../src/pipeline/pipeline-event.ts';
import type { DeadLetterWriter } from '../../src/pipeline/runtime.ts';
import type { Sink, WriteOutcome } from '../../src/pipeline/sink.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { Metrics } from '../../src/telemetry/metrics.ts';
import { loadHashKey } from '../../processors/hash/hash-keys.ts';
import { DeadLetterSink } from '../dead-letter/sink.ts';
import { VendorDirectory, pixelsSinkConfig, type PixelsSinkConfig, type VendorIdentity } from './config.ts';
import { ConsentGate } from './consent.ts';
import { ContextSealer, eventContextOf, loadQueueKey, type EventContext } from './event-context.ts';
import { LEDGER, beaconId, keys, type BeaconJob, type DeliveryRow } from './ledger.ts';
import { OutcomeFlusher, deliveryRow } from './outcomes.ts';
import { BeaconSelector, type BeaconTemplate } from './select-beacons.ts';
import { BeaconWorker, queuedBeacon, type QueuedBeacon } from './worker.ts';

/** One beacon of the batch being written. */
interface Planned {
  readonly id: string;
  /** Its ledger key, built once: it is read, then written. */
  readonly ledgerKey: string;
  readonly event: PipelineEvent;
  readonly beacon: BeaconTemplate;
  readonly vendor: VendorIdentity;
  /** The event came back through `quartile dlq replay`. */
  readonly replay: boolean;
}

/** The durable job of a planned beacon, first queued at `now`, its context sealed under `ctx`. */
function jobOf(p: Planned, now: number, ctx: string | undefined): BeaconJob {
  const e = p.event.enriched!;
  const b = p.beacon;
  // `macros` stays undefined for most beacons; JSON leaves it out of the stored job.
  const macros = b.macros as Record<string, string | number> | undefined;
  return { id: p.id, eventId: e.eventId, eventType: e.eventType, vendor: p.vendor.name, host: b.host!, template: b.template, uriHash: b.uriHash, macros, firstAt: now, ctx, attempts: 0, due: now };
}

function isExplicitReplay(event: PipelineEvent): boolean {
  const s = event.source;
  return s.record.topic !== s.originTopic || s.record.partition !== s.originPartition || s.record.offset !== s.originOffset;
}

export class PixelsSink implements Sink {
  readonly name = 'pixels' as const;
  readonly #config: PixelsSinkConfig;
  readonly #state: StateStore;
  readonly #metrics: Metrics;
  readonly #vendors: VendorDirectory;
  readonly #selector: BeaconSelector;
  readonly #gate: ConsentGate;
  readonly #sealer: ContextSealer;
  readonly #outcomes: OutcomeFlusher;
  readonly #worker: BeaconWorker;

  constructor(ctx: EngineContext, options: { readonly deadLetters?: DeadLetterWriter } = {}) {
    const config = pixelsSinkConfig(ctx.config);
    const logger = ctx.logger.child({ component: 'sinks/pixels' });
    const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#config = config;
    this.#state = ctx.backends.state;
    this.#metrics = ctx.metrics;
    this.#vendors = new VendorDirectory(config);
    this.#selector = new BeaconSelector({ verificationNotExecuted: config.verificationNotExecuted });
    this.#gate = new ConsentGate({ purposes: config.purposes, allowVendorsWithoutGvlId: config.allowVendorsWithoutGvlId });
    this.#sealer = new ContextSealer(loadQueueKey(ctx.config));
    this.#outcomes = new OutcomeFlusher({ state: this.#state, warehouse: ctx.backends.warehouse, logger, owner });
    this.#worker = new BeaconWorker({
      config,
      state: this.#state,
      dispatcher: new BeaconDispatcher({ timeoutMs: config.timeoutMs, maxRedirects: config.maxRedirects, allowPrivateNetwork: config.allowPrivateNetwork, userAgent: config.userAgent }),
      deadLetters: options.deadLetters ?? new DeadLetterSink(ctx.backends.transport, ctx.codec),
      outcomes: this.#outcomes,
      vendors: this.#vendors,
      sealer: this.#sealer,
      ifaKey: loadHashKey(ctx.config).secret,
      metrics: ctx.metrics,
      logger,
      owner,
    });
    // Started at once, not on the first write: beacons left queued by a process that
    // stopped are taken over even before new events arrive.
    this.#worker.start();
  }

  accepts(output: PipelineOutput): boolean {
    return output.kind === 'event' && output.event.routes.has('pixels') && output.event.metadata !== undefined;
  }

  /** Pauses a vendor (its config name, or the host of an unknown one): its beacons queue up, none is dropped. */
  pause(vendor: string): Promise<void> {
    return this.#worker.pause(vendor);
  }

  /** Resumes a paused vendor; what queued meanwhile goes out. */
  resume(vendor: string): Promise<void> {
    return this.#worker.resume(vendor);
  }

  /** Vendors paused, as this process knows (pauses reach every process within a second). */
  paused(): string[] {
    return this.#worker.paused();
  }

  /** Beacons queued per vendor in this process (waiting, backing off or in flight). */
  queueDepth(): Record<string, number> {
    return this.#worker.depth();
  }

  /** Writes what is pending to ClickHouse now (tests, shutdown). */
  flushOutcomes(): Promise<void> {
    return this.#outcomes.flush();
  }

  async write(batch: readonly PipelineOutput[]): Promise<WriteOutcome> {
    if (this.#worker.backlog >= this.#config.maxPending) {
      return { status: 'retry', error: new QuartileError('SINK_PIXEL_BACKPRESSURE', `${this.#worker.backlog} beacons are pending (pixels.maxPending ${this.#config.maxPending}).`, { retriable: true, stage: 'sinks/pixels' }) };
    }
    try {
      await this.#record(batch);
      return { status: 'delivered' };
    } catch (error) {
      return {
        status: 'retry',
        error: new QuartileError('SINK_PIXEL_QUEUE_UNAVAILABLE', `Recording beacons failed: ${messageOf(error)}`, { retriable: true, stage: 'sinks/pixels', cause: error }),
      };
    }
  }

  async #record(batch: readonly PipelineOutput[]): Promise<void> {
    const planned: Planned[] = [];
    const invalid: Array<{ event: PipelineEvent; beacon: BeaconTemplate }> = [];
    for (const output of batch) {
      if (output.kind !== 'event') continue;
      const event = output.event;
      const e = event.enriched!;
      const replay = isExplicitReplay(event);
      for (const beacon of this.#selector.select(e, event.metadata!)) {
        if (beacon.host === null) {
          invalid.push({ event, beacon });
          continue;
        }
        const vendor = this.#vendors.of(beacon.host);
        const scope = beacon.scope === 'event' ? e.eventId : `ai:${e.adInstanceId}`;
        const id = beaconId(scope, vendor.name, beacon.uriHash);
        planned.push({ id, ledgerKey: keys.ledger(id), event, beacon, vendor, replay });
      }
    }
    if (planned.length === 0 && invalid.length === 0) return;

    const ledger = await this.#state.getMany(planned.map((p) => p.ledgerKey));
    const now = Date.now();
    const fresh: Planned[] = [];
    const adopt: Planned[] = [];
    const suppressed: Array<{ planned: Planned; reason: ReasonCode }> = [];
    const seen = new Set<string>();
    planned.forEach((p, i) => {
      if (seen.has(p.id)) return; // a progress offset reached by two events of one batch
      seen.add(p.id);
      const state = ledger[i];
      if (state === LEDGER.delivered || state === LEDGER.suppressed) return;
      if (state === LEDGER.failed && !p.replay) return;
      if (state === LEDGER.queued) {
        if (!this.#worker.holds(p.id)) adopt.push(p); // its process stopped before the commit
        return;
      }
      // Cheap per beacon: decoded consent strings are cached by the gate.
      const verdict = this.#gate.verdict(p.event.enriched!.consent, p.vendor);
      if (verdict.allowed) fresh.push(p);
      else suppressed.push({ planned: p, reason: verdict.reason });
    });

    // The sealed contexts and the queue entries first; the ledger last, so a beacon
    // whose ledger says "queued" is always in the durable queue.
    const contexts = new Map<string, EventContext>();
    for (const p of fresh) {
      const id = p.event.enriched!.eventId;
      if (!contexts.has(id)) contexts.set(id, eventContextOf(p.event, p.event.metadata!, this.#config.userAgent));
    }
    const ttl = this.#config.deadlineMs;
    const ctxKey = keys.contexts(randomUUID());
    const jobs: BeaconJob[] = fresh.map((p) => jobOf(p, now, ctxKey));
    const members = jobs.map((job) => JSON.stringify(job));
    const byHost = new Map<string, Array<{ member: string; score: number }>>();
    jobs.forEach((job, i) => {
      const entry = { member: members[i]!, score: job.due };
      const entries = byHost.get(job.host);
      if (entries === undefined) byHost.set(job.host, [entry]);
      else entries.push(entry);
    });
    const writes: Array<Promise<unknown>> = [];
    if (contexts.size > 0) writes.push(this.#state.set(ctxKey, this.#sealer.seal([...contexts.values()], ctxKey), ttl));
    for (const [host, entries] of byHost) writes.push(this.#state.sortedAdd(keys.queue(host), entries));
    if (byHost.size > 0) writes.push(this.#state.sortedAdd(keys.hosts, [...byHost.keys()].map((host) => ({ member: host, score: now }))));
    await Promise.all(writes);

    const rows: DeliveryRow[] = [
      ...suppressed.map(({ planned: p, reason }) => this.#row(p.event, p.vendor.name, p.beacon, 'suppressed', reason, now)),
      ...invalid.map(({ event, beacon }) => this.#row(event, 'invalid-uri', beacon, 'failed', 'SINK_PIXEL_URL_INVALID', now)),
    ];
    await this.#outcomes.add(rows);
    const ledgerTtl = this.#config.ledgerTtlMs;
    await this.#state.setMany(
      [...fresh.map((p) => ({ key: p.ledgerKey, value: LEDGER.queued })), ...suppressed.map(({ planned: p }) => ({ key: p.ledgerKey, value: LEDGER.suppressed }))],
      ledgerTtl,
    );

    for (const { planned: p, reason } of suppressed) this.#metrics.pixelBeacons.inc({ vendor: p.vendor.known ? p.vendor.name : 'other', outcome: 'suppressed', reason });
    for (const _ of invalid) this.#metrics.pixelBeacons.inc({ vendor: 'other', outcome: 'failed', reason: 'SINK_PIXEL_URL_INVALID' });

    const queued: QueuedBeacon[] = jobs.map((job, i) => queuedBeacon(job, members[i]!, contexts.get(job.eventId)!, true, fresh[i]!.ledgerKey));
    if (jobs.length > 0) this.#worker.ownContexts(ctxKey, jobs.length);
    // Beacons queued by a process that stopped before committing: this one takes them
    // over now (the lease keeps the two from both firing, should the other still live).
    // Their queue members are the other process's, which this one cannot rebuild: when
    // done, the scan finds those members and removes them (their ledger says done).
    for (const p of adopt) {
      const job = jobOf(p, now, undefined);
      queued.push(queuedBeacon(job, JSON.stringify(job), eventContextOf(p.event, p.event.metadata!, this.#config.userAgent), false, p.ledgerKey));
    }
    this.#worker.enqueue(queued);
  }

  #row(event: PipelineEvent, vendor: string, beacon: BeaconTemplate, outcome: DeliveryRow['outcome'], reason: string, now: number): DeliveryRow {
    const e = event.enriched!;
    return deliveryRow({ event_id: e.eventId, vendor, event_type: e.eventType, uri_hash: beacon.uriHash, outcome, reason, http_status: 0, attempts: 0, latency_ms: 0 }, now);
  }

  async close(): Promise<void> {
    await this.#worker.stop();
  }
}
