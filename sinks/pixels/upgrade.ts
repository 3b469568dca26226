/**
 * Taking over what earlier versions left in the state store, so an upgrade loses no
 * beacon. Those versions kept the durable beacon queue in the state store: jobs in a
 * sorted set per vendor domain with their events' contexts sealed beside them (two
 * layouts, see ledger.ts `earlierKeys`), and outcome rows in an outbox waiting for
 * ClickHouse. Beacon delivery runs this scan when it starts and every half minute:
 * queued beacons are written to the retry topic (sealed again, as this version keeps
 * them) and then removed from the state store; outbox rows are inserted into
 * `beacon_deliveries` and then removed. The scan is a few cheap reads when nothing is
 * left, and harmless when two processes run it at once: the ledger still fires each
 * beacon once (a beacon such a version queued reads `p` there, see ledger.ts).
 */
import { createHash } from 'node:crypto';
import type { QuartileConfig } from '../../src/config/spec.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import type { RecordCodec } from '../../src/transport/avro/record-codec.ts';
import { TOPICS } from '../../src/transport/topics.ts';
import type { Transport } from '../../src/transport/transport.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { packBatch, type BatchBeacon, type BeaconTarget, type BinarySealer } from './beacon-batch.ts';
import { ContextSealer, loadQueueKey, type EventContext } from './event-context.ts';
import { earlierKeys, type DeliveryRow, type EarlierJob } from './ledger.ts';
import { DELIVERY_COLUMNS, deliveryLines } from './outcomes.ts';

/** A context as earlier versions sealed it: with the raw record in base64, which this version does not queue. */
type EarlierContext = EventContext & { readonly originalKey?: string | null; readonly originalValue?: string };

/** What the scan needs. */
export interface UpgradeScanOptions {
  readonly state: StateStore;
  readonly transport: Transport;
  readonly warehouse: Warehouse;
  readonly codec: RecordCodec;
  readonly sealer: BinarySealer;
  readonly config: QuartileConfig;
  readonly logger: Logger;
}

/** Members read per queue and pass. */
const PER_PASS = 500;

function contextOf(earlier: EarlierContext): EventContext {
  const { originalKey: _key, originalValue: _value, ...context } = earlier;
  return context;
}

/** A context for a job whose sealed context is gone: enough for its failed row. */
function lostContext(job: EarlierJob): EventContext {
  return {
    eventId: job.eventId, eventType: job.eventType, adInstanceId: '', macros: {}, device: { ip: null, userAgent: null }, ifa: null, ifaType: null, limitAdTracking: false,
    source: { topic: '', partition: -1, offset: '-1' },
  };
}

/** Writes one domain's jobs to the retry topic; a job with no context fails as SINK_PIXEL_CONTEXT_LOST. */
async function requeue(o: UpgradeScanOptions, host: string, jobs: ReadonlyArray<{ job: EarlierJob; ctx: EventContext | null }>): Promise<void> {
  if (jobs.length === 0) return;
  const now = Date.now();
  const targets = new Map<string, { target: BeaconTarget; index: number }>();
  const contexts = new Map<EventContext, number>();
  const beacons: BatchBeacon[] = [];
  for (const { job, ctx } of jobs) {
    const context = ctx ?? lostContext(job);
    const targetKey = `${job.vendor}\n${job.uriHash}\n${job.template}\n${JSON.stringify(job.macros ?? null)}`;
    let t = targets.get(targetKey);
    if (t === undefined) {
      // The scope is spelled in the id: progress offsets are guarded per ad play (`ai:…`).
      const target: BeaconTarget = { template: job.template, host, uriHash: job.uriHash, scope: job.id.startsWith('ai:') ? 'adInstance' : 'event', vendor: job.vendor };
      t = { target: job.macros === undefined ? target : { ...target, macros: job.macros }, index: targets.size };
      targets.set(targetKey, t);
    }
    let c = contexts.get(context);
    if (c === undefined) contexts.set(context, (c = contexts.size));
    beacons.push({ ctx: c, target: t.index, firstAt: job.firstAt, attempts: job.attempts, due: Math.min(job.due, now), replay: false, verdict: ctx === null ? 'SINK_PIXEL_CONTEXT_LOST' : null });
  }
  const content = { targets: [...targets.values()].map((t) => t.target), contexts: [...contexts.keys()], beacons };
  const value = await o.codec.encode(TOPICS.beaconRetries, { queuedAt: now, due: now, host, events: contexts.size, beacons: beacons.length, sealed: o.sealer.seal(packBatch(content), host) });
  await o.transport.send(TOPICS.beaconRetries, [{ key: host, value }]);
}

/** The layout of the version before this one: jobs are queue members, contexts sealed per written batch. */
async function takeOverQueues(o: UpgradeScanOptions, opener: ContextSealer): Promise<number> {
  const { state } = o;
  let moved = 0;
  for (const { member: host } of await state.sortedRange(earlierKeys.hosts, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1000)) {
    for (;;) {
      const members = await state.sortedRange(earlierKeys.queue(host), Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, PER_PASS);
      if (members.length === 0) {
        await state.sortedRemove(earlierKeys.hosts, [host]);
        break;
      }
      const jobs = members.map((m) => JSON.parse(m.member) as EarlierJob);
      const opened = new Map<string, Map<string, EventContext> | null>();
      for (const key of new Set(jobs.map((j) => j.ctx).filter((k): k is string => k !== undefined))) {
        const blob = await state.get(key);
        const list = blob === null ? null : opener.open<EarlierContext[]>(blob, key);
        opened.set(key, list === null ? null : new Map(list.map((c) => [c.eventId, contextOf(c)])));
      }
      await requeue(o, host, jobs.map((job) => ({ job, ctx: job.ctx === undefined ? null : (opened.get(job.ctx)?.get(job.eventId) ?? null) })));
      await state.sortedRemove(earlierKeys.queue(host), members.map((m) => m.member));
      moved += jobs.length;
      if (members.length < PER_PASS) break;
    }
  }
  return moved;
}

/** The oldest layout: queue members are ids; jobs and contexts have keys of their own. */
async function takeOverLegacyQueues(o: UpgradeScanOptions, opener: ContextSealer): Promise<number> {
  const { state } = o;
  let moved = 0;
  for (const { member: host } of await state.sortedRange(earlierKeys.legacyHosts, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1000)) {
    for (;;) {
      const ids = (await state.sortedRange(earlierKeys.legacyQueue(host), Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, PER_PASS)).map((m) => m.member);
      if (ids.length === 0) {
        await state.sortedRemove(earlierKeys.legacyHosts, [host]);
        break;
      }
      const texts = await state.getMany(ids.map((id) => earlierKeys.legacyJob(id)));
      const jobs: Array<{ job: EarlierJob; ctx: EventContext | null }> = [];
      for (const text of texts) {
        if (text === null) continue; // done already; its queue entry was left behind
        const job = JSON.parse(text) as EarlierJob;
        const key = earlierKeys.legacyContext(job.eventId);
        const blob = await state.get(key);
        const earlier = blob === null ? null : opener.open<EarlierContext>(blob, key);
        jobs.push({ job, ctx: earlier === null ? null : contextOf(earlier) });
      }
      await requeue(o, host, jobs);
      await state.sortedRemove(earlierKeys.legacyQueue(host), ids);
      await state.delete(ids.map((id) => earlierKeys.legacyJob(id)));
      moved += jobs.length;
      if (ids.length < PER_PASS) break;
    }
  }
  return moved;
}

/** Outbox rows an earlier version had not written to ClickHouse yet: TabSeparated lines, or older JSON. */
async function flushOutbox(o: UpgradeScanOptions): Promise<number> {
  const { state } = o;
  let rows = 0;
  for (;;) {
    const members = (await state.sortedRange(earlierKeys.outbox, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 64)).map((m) => m.member);
    if (members.length === 0) return rows;
    const lines = members
      .map((member) => {
        // Lines start with an event id; JSON (an array of rows, or one row) with [ or {.
        if (!member.startsWith('[') && !member.startsWith('{')) return member;
        const parsed = JSON.parse(member) as DeliveryRow | DeliveryRow[];
        return deliveryLines(Array.isArray(parsed) ? parsed : [parsed]);
      })
      .join('');
    const token = `beacon_deliveries:${createHash('sha256').update(lines).digest('base64url').slice(0, 32)}`;
    await o.warehouse.insertTabSeparated('beacon_deliveries', DELIVERY_COLUMNS, lines, { deduplicationToken: token });
    await state.sortedRemove(earlierKeys.outbox, members);
    rows += lines.split('\n').length - 1;
    if (members.length < 64) return rows;
  }
}

/** One scan: moves whatever earlier versions left queued into this version's topics and table. */
export async function takeOverEarlierQueue(o: UpgradeScanOptions): Promise<void> {
  const opener = new ContextSealer(loadQueueKey(o.config));
  const beacons = (await takeOverQueues(o, opener)) + (await takeOverLegacyQueues(o, opener));
  const rows = await flushOutbox(o);
  if (beacons > 0 || rows > 0) o.logger.info({ beacons, rows }, 'took over beacons and outcome rows an earlier version left in the state store');
}
