/**
 * The live break flow: a cue arrives (POST /v1/live/cues, or the live.cues topic), the
 * break is recorded as pending, its pods are prefetched per cohort, and the plan is
 * stored ready for the herd. A cue is idempotent per breakId: repeating it changes
 * nothing, and a breakId reused by another live event is refused.
 */
import type { AdBreakCue } from '../../schemas/types.ts';
import { messageOf } from '../core/errors.ts';
import { RequestError } from '../ads/request-error.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RecordCodec } from '../transport/avro/record-codec.ts';
import { TOPICS } from '../transport/topics.ts';
import type { Transport } from '../transport/transport.ts';
import type { BreakRecord } from './break-plan.ts';
import type { BreakStore } from './break-store.ts';
import { cueExpired } from './cue.ts';
import type { LiveActivity } from './live-activity.ts';
import { pendingRecord, prefetchBreak, type PrefetchDeps } from './prefetch.ts';

/** What the flow needs. */
export interface LiveBreaksOptions {
  readonly store: BreakStore;
  readonly prefetch: PrefetchDeps;
  readonly transport: Transport;
  readonly codec: RecordCodec;
  readonly defaultPodMaxAds: number;
  readonly logger: Logger;
  /** Notes cues, prefetches and ready plans for the Control Room. */
  readonly activity?: LiveActivity;
  /** Counts cues received, by source. */
  readonly onCueReceived?: (source: 'http' | 'topic') => void;
  readonly now?: () => number;
}

/** The answer to an accepted cue. */
export interface CueAccepted {
  readonly liveEventId: string;
  readonly breakId: string;
  readonly status: BreakRecord['status'];
  /** Where the plan will be. */
  readonly plan: string;
}

export class LiveBreaks {
  readonly #o: LiveBreaksOptions;
  /** Prefetches running in this process, by breakId: a repeated cue joins the running one. */
  readonly #running = new Map<string, Promise<void>>();

  constructor(options: LiveBreaksOptions) {
    this.#o = options;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /**
   * A cue from POST /v1/live/cues: recorded as pending, then written to live.cues,
   * whose consumer prefetches it. Throws a RequestError for an expired cue (422) or a
   * breakId of another live event (409).
   *
   * The process that received the cue also prefetches it at once, without waiting for
   * the topic to bring it back: the pending record and the plan live in the state seam,
   * where every Ads Manager finds them, so a break is ready even when the event log is
   * restarting or its consumer group is rebalancing (the chaos suite's Kafka restart
   * left a herd with LIVE_BREAK_NOT_READY while the cue waited in the topic). Another
   * instance that reads the cue from the topic finds the break ready, or joins nothing
   * and prefetches it again (harmless: the plan is the same).
   */
  async accept(cue: AdBreakCue): Promise<CueAccepted> {
    const { store, codec, transport, logger } = this.#o;
    const accepted = (status: BreakRecord['status']): CueAccepted => ({
      liveEventId: cue.liveEventId,
      breakId: cue.breakId,
      status,
      plan: `/v1/live/breaks/${encodeURIComponent(cue.breakId)}`,
    });
    this.#o.onCueReceived?.('http');
    if (cueExpired(cue, this.#now())) {
      throw new RequestError(422, 'LIVE_CUE_EXPIRED', `Break ${cue.breakId} ended at ${new Date(cue.startsAt + cue.durationMs).toISOString()}; nothing to prefetch.`, { field: 'startsAt' });
    }
    const existing = await store.createPending(pendingRecord(cue, this.#o.defaultPodMaxAds));
    if (existing !== null) {
      if (existing.liveEventId !== cue.liveEventId) throw conflict(cue, existing);
      if (existing.status === 'ready') {
        this.#o.activity?.ready(existing);
        return accepted('ready');
      }
      // Still pending: the origin repeats a cue it got no answer for. Publishing it again
      // is harmless (the consumer joins a running prefetch) and unsticks a cue whose
      // first publication was lost.
    }
    this.#o.activity?.cued(cue);
    // Prefetch here first: publishing may wait out a broker restart.
    this.onCue(cue, 'http').catch((e: unknown) => logger.error({ err: messageOf(e), breakId: cue.breakId }, 'prefetch of a cue failed'));
    try {
      await transport.send(TOPICS.liveCues, [{ key: cue.breakId, value: await codec.encode(TOPICS.liveCues, cue), timestamp: this.#now() }]);
    } catch (error) {
      logger.warn({ err: messageOf(error), breakId: cue.breakId }, 'cue not acknowledged by the event log; this process prefetches it alone');
    }
    return accepted('pending');
  }

  /** A cue from live.cues (or one the event log did not take): prefetches the break unless it is over or already ready. */
  async onCue(cue: AdBreakCue, source: 'http' | 'topic' = 'topic'): Promise<void> {
    const { store, logger, activity } = this.#o;
    if (source === 'topic') this.#o.onCueReceived?.('topic');
    if (cueExpired(cue, this.#now())) {
      logger.info({ breakId: cue.breakId, liveEventId: cue.liveEventId }, 'cue for a break that has ended; not prefetched');
      return;
    }
    const running = this.#running.get(cue.breakId);
    if (running !== undefined) return running;
    const task = (async () => {
      const pending = pendingRecord(cue, this.#o.defaultPodMaxAds);
      const existing = await store.createPending(pending);
      if (existing !== null && existing.liveEventId !== cue.liveEventId) {
        logger.warn({ breakId: cue.breakId, liveEventId: cue.liveEventId, existing: existing.liveEventId }, 'cue reuses the breakId of another live event; ignored');
        return;
      }
      if (existing?.status === 'ready') {
        activity?.ready(existing);
        return;
      }
      activity?.prefetching(cue);
      const started = this.#now();
      const ready = await prefetchBreak(this.#o.prefetch, existing ?? pending, () => this.#now());
      await store.putReady(ready);
      activity?.ready(ready);
      logger.info(
        { breakId: cue.breakId, liveEventId: cue.liveEventId, cohorts: Object.keys(ready.cohorts).length, ms: this.#now() - started, startsInMs: cue.startsAt - this.#now() },
        'break prefetched',
      );
    })();
    this.#running.set(cue.breakId, task);
    try {
      await task;
    } finally {
      this.#running.delete(cue.breakId);
    }
  }

  /** Resolves when no prefetch is running. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }
}

function conflict(cue: AdBreakCue, existing: BreakRecord): RequestError {
  return new RequestError(409, 'LIVE_BREAK_CONFLICT', `breakId ${cue.breakId} already belongs to live event ${existing.liveEventId}; break ids must be unique across live events.`, {
    field: 'breakId',
  });
}
