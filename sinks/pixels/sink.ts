/**
 * The pixels sink: what the pipeline does for third-party vendor beacons (the ad's
 * VAST tracking URIs, DV, IAS, Nielsen…). It decides which beacons each event fires
 * (select-beacons.ts) and which of them consent allows (consent.ts), and records that
 * work durably in the event log: one sealed BeaconBatch record per batch of events on
 * `ads.beacons` (beacon-batch.ts), the events' device contexts with them. Only once
 * the log has acknowledged the records does it answer `delivered`, so the runtime
 * commits an offset only when its beacons are recorded.
 *
 * It never waits for a vendor: beacon delivery (deliverer.ts) consumes `ads.beacons`
 * in a consumer group of its own, fires each beacon once with retries, limits and
 * circuit breakers, and records each outcome. A slow or failing vendor therefore never
 * stalls the other sinks. The buffer between the two is bounded: when delivery is more
 * than `pixels.maxBacklog` records behind, `write()` answers `retry` and the partition
 * waits rather than the backlog growing without end.
 *
 * Replays are harmless here: a replayed event records its beacons again, and delivery's
 * ledger fires none of them twice. An event that came back through `quartile dlq
 * replay` (the record carries the replay header) is marked so: delivery fires its
 * beacons that failed for good once more, which is what the operator asked for.
 */
import { randomUUID } from 'node:crypto';
import { QuartileError, messageOf } from '../../src/core/errors.ts';
import type { EngineContext } from '../../src/core/engine.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import type { PipelineEvent, PipelineOutput } from '../../src/pipeline/pipeline-event.ts';
import type { Sink, WriteOutcome } from '../../src/pipeline/sink.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import type { OutgoingRecord, Transport } from '../../src/transport/transport.ts';
import { BinarySealer, packBatch, type BatchBeacon, type BeaconTarget } from './beacon-batch.ts';
import { BacklogProbe } from './backlog-probe.ts';
import { VendorDirectory, pixelsSinkConfig, type PixelsSinkConfig } from './config.ts';
import { ConsentGate } from './consent.ts';
import { eventContextOf, loadQueueKey, type EventContext } from './event-context.ts';
import { beaconId } from './ledger.ts';
import { BeaconSelector, type BeaconTemplate } from './select-beacons.ts';

/** Events per BeaconBatch record: a pipeline batch of 500 is one record. */
const EVENTS_PER_RECORD = 500;
/** Estimated bytes per record before it is cut: well under Kafka's 1 MB record limit. */
const BYTES_PER_RECORD = 512 * 1024;
/** The vendor name of beacons whose URI names no host (they fail as SINK_PIXEL_URL_INVALID). */
const INVALID_VENDOR = 'invalid-uri';

/** About how many bytes a context takes in a record: its fixed fields, and the strings that can be long. */
function contextBytes(ctx: EventContext): number {
  const m = ctx.macros;
  let n = 300 + (ctx.device.userAgent?.length ?? 0);
  for (const name of ['GDPRCONSENT', 'GPPSTRING', 'ASSETURI']) {
    const value = m[name];
    if (typeof value === 'string') n += value.length;
  }
  return n;
}

function isExplicitReplay(event: PipelineEvent): boolean {
  const s = event.source;
  return s.record.topic !== s.originTopic || s.record.partition !== s.originPartition || s.record.offset !== s.originOffset;
}

/** One record being built: its contexts, targets (deduplicated) and beacons. */
class RecordBuilder {
  readonly contexts: EventContext[] = [];
  readonly targets: BeaconTarget[] = [];
  readonly beacons: BatchBeacon[] = [];
  readonly #targetIndex = new Map<BeaconTemplate, number>();
  bytes = 0;

  target(beacon: BeaconTemplate, vendor: string): number {
    let i = this.#targetIndex.get(beacon);
    if (i === undefined) {
      i = this.targets.length;
      const t: BeaconTarget = { template: beacon.template, host: beacon.host, uriHash: beacon.uriHash, scope: beacon.scope, vendor };
      this.targets.push(beacon.macros === undefined ? t : { ...t, macros: beacon.macros });
      this.#targetIndex.set(beacon, i);
    }
    return i;
  }
}

export class PixelsSink implements Sink {
  readonly name = 'pixels' as const;
  readonly #config: PixelsSinkConfig;
  readonly #transport: Transport;
  readonly #codec: RecordCodec;
  readonly #vendors: VendorDirectory;
  readonly #selector: BeaconSelector;
  readonly #gate: ConsentGate;
  readonly #sealer: BinarySealer;
  readonly #backlog: BacklogProbe;
  readonly #maxBacklog: number;

  /** `deliveryGroupId`: the consumer group of beacon delivery, whose backlog bounds the buffer. */
  constructor(ctx: EngineContext, options: { readonly deliveryGroupId: string }) {
    const config = pixelsSinkConfig(ctx.config);
    this.#config = config;
    this.#transport = ctx.backends.transport;
    this.#codec = ctx.codec;
    this.#vendors = new VendorDirectory(config);
    this.#selector = new BeaconSelector({ verificationNotExecuted: config.verificationNotExecuted });
    this.#gate = new ConsentGate({ purposes: config.purposes, allowVendorsWithoutGvlId: config.allowVendorsWithoutGvlId });
    this.#sealer = new BinarySealer(loadQueueKey(ctx.config));
    this.#backlog = new BacklogProbe(ctx.backends.transport, options.deliveryGroupId, ctx.logger.child({ component: 'sinks/pixels' }));
    // Kafka keeps the backlog on disk for its retention (a week): at a surge, billing need
    // not wait for beacons. The embedded log keeps it in memory: a tighter bound.
    this.#maxBacklog = config.maxBacklog > 0 ? config.maxBacklog : ctx.backends.transport.kind === 'kafka' ? 1_000_000 : 2_000;
  }

  accepts(output: PipelineOutput): boolean {
    return output.kind === 'event' && output.event.routes.has('pixels') && output.event.metadata !== undefined;
  }

  async write(batch: readonly PipelineOutput[]): Promise<WriteOutcome> {
    const backlog = this.#backlog.records();
    if (backlog > this.#maxBacklog) {
      return {
        status: 'retry',
        error: new QuartileError('SINK_PIXEL_BACKPRESSURE', `Beacon delivery is ${backlog} records behind (pixels.maxBacklog ${this.#maxBacklog}).`, { retriable: true, stage: 'sinks/pixels' }),
      };
    }
    let records: OutgoingRecord[];
    try {
      records = await this.#records(batch);
      if (records.length > 0) await this.#transport.send(TOPICS.beacons, records);
    } catch (error) {
      return {
        status: 'retry',
        error: new QuartileError('SINK_PIXEL_QUEUE_UNAVAILABLE', `Recording beacons failed: ${messageOf(error)}`, { retriable: true, stage: 'sinks/pixels', cause: error }),
      };
    }
    this.#backlog.added(records.length);
    return { status: 'delivered' };
  }

  /** The batch's beacons as sealed BeaconBatch records (none when no event fires any). */
  async #records(batch: readonly PipelineOutput[]): Promise<OutgoingRecord[]> {
    const now = Date.now();
    const built: RecordBuilder[] = [];
    let current = new RecordBuilder();
    // A progress offset reached by two events of one batch is one beacon (its scope is the ad play).
    const seen = new Set<string>();
    for (const output of batch) {
      if (output.kind !== 'event') continue;
      const event = output.event;
      const e = event.enriched!;
      const beacons = this.#selector.select(e, event.metadata!);
      if (beacons.length === 0) continue;
      if (current.contexts.length >= EVENTS_PER_RECORD || current.bytes >= BYTES_PER_RECORD) {
        built.push(current);
        current = new RecordBuilder();
      }
      const replay = isExplicitReplay(event);
      const ctx = current.contexts.length;
      let added = 0;
      for (const beacon of beacons) {
        let vendor = INVALID_VENDOR;
        let verdict: ReasonCode | null = 'SINK_PIXEL_URL_INVALID';
        if (beacon.host !== null) {
          const identity = this.#vendors.of(beacon.host);
          vendor = identity.name;
          const consent = this.#gate.verdict(e.consent, identity);
          verdict = consent.allowed ? null : consent.reason;
        }
        const id = beaconId(beacon.scope === 'event' ? e.eventId : `ai:${e.adInstanceId}`, vendor, beacon.uriHash);
        if (seen.has(id)) continue;
        seen.add(id);
        current.beacons.push({ ctx, target: current.target(beacon, vendor), firstAt: now, attempts: 0, due: now, replay, verdict });
        added++;
      }
      if (added === 0) continue;
      const context = eventContextOf(event, event.metadata!);
      current.contexts.push(context);
      current.bytes += contextBytes(context);
    }
    if (current.beacons.length > 0) built.push(current);
    if (built.length === 0) return [];
    const keys = built.map(() => randomUUID());
    const values = await this.#codec.encodeMany(
      TOPICS.beacons,
      built.map((b, i) => ({ queuedAt: now, due: now, host: null, events: b.contexts.length, beacons: b.beacons.length, sealed: this.#sealer.seal(packBatch(b), keys[i]!) })),
    );
    return values.map((value, i) => ({ key: keys[i]!, value }));
  }

  async close(): Promise<void> {
    this.#backlog.stop();
  }
}
