/**
 * sessionize: folds all events of one ad instance into an AdSession.
 *
 * A session closes on a terminal event (complete, skip, closeLinear, error, notUsed),
 * or when the partition's watermark passes its last event time plus the ad duration
 * plus the inactivity gap. Open sessions are indexed per partition in a sorted set by
 * that deadline, in the state seam, so a rebalance hands them to the new owner intact.
 * An event arriving after the close produces a corrected session: same key, version+1,
 * closeReason `late`.
 *
 * Replays (records at or below the highest offset already folded) change nothing;
 * a replay of the event that closed the session emits that session again, unchanged,
 * so a batch whose sinks failed still delivers it. Sinks treat (adInstanceId, version)
 * as idempotent.
 */
import type { StateStore } from '../../src/state/state-store.ts';
import { EMIT, type Processor, type StepContext, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import { TERMINAL, fold, toSession, type SessionState } from './session-state.ts';
import { eventTimeOf } from '../../src/pipeline/watermark.ts';

/** Options from config. */
export interface SessionizeOptions {
  readonly gapMs: number;
  readonly stateTtlMs: number;
  /** Ad duration assumed when the registry does not know it. */
  readonly defaultDurationMs?: number;
}

const stateKey = (adInstanceId: string): string => `ses:${adInstanceId}`;
const indexKey = (topic: string, partition: number): string => `ses:open:${topic}:${partition}`;

export class SessionizeProcessor implements Processor {
  readonly name = 'sessionize' as const;
  readonly #state: StateStore;
  readonly #options: SessionizeOptions;

  constructor(state: StateStore, options: SessionizeOptions) {
    this.#state = state;
    this.#options = options;
  }

  #deadline(state: SessionState): number {
    return state.lastEventAt + (state.durationMs ?? this.#options.defaultDurationMs ?? 30_000) + this.#options.gapMs;
  }

  #fresh(event: PipelineEvent, at: number): SessionState {
    const e = event.enriched!;
    return {
      adInstanceId: e.adInstanceId,
      playbackSessionId: e.playbackSessionId,
      metadataId: e.metadataId,
      campaignId: e.campaignId,
      creativeId: e.creativeId,
      profileHash: e.profileHash,
      live: e.live,
      durationMs: event.metadata!.durationMs,
      started: false,
      quartilesReached: 0,
      completed: false,
      skipped: false,
      clicks: 0,
      errors: 0,
      watchedMs: 0,
      viewability: 'unknown',
      eventCount: 0,
      firstEventAt: at,
      lastEventAt: at,
      maxOffset: -1,
      version: 0,
      closed: false,
      closeReason: 'inactivity',
      closedAt: 0,
      closedByOffset: -1,
    };
  }

  async processBatch(events: readonly PipelineEvent[], ctx: StepContext): Promise<StepResult[]> {
    const groups = new Map<string, PipelineEvent[]>();
    for (const event of events) {
      const id = event.enriched!.adInstanceId;
      const group = groups.get(id);
      if (group === undefined) groups.set(id, [event]);
      else group.push(event);
    }
    const ids = [...groups.keys()];
    const stored = await this.#state.getMany(ids.map(stateKey));
    const index = indexKey(ctx.topic, ctx.partition);
    const writes: Array<Promise<unknown>> = [];
    const states: Array<{ key: string; value: string }> = [];
    const open: Array<{ member: string; score: number }> = [];
    const closed: string[] = [];

    ids.forEach((id, i) => {
      const text = stored[i];
      let state: SessionState | undefined = text === null || text === undefined ? undefined : (JSON.parse(text) as SessionState);
      let changed = false;
      for (const event of groups.get(id)!) {
        const offset = Number(event.source.record.offset);
        const at = eventTimeOf(event.raw!);
        state ??= this.#fresh(event, at);
        if (offset <= state.maxOffset) {
          if (state.closed && state.closedByOffset === offset) ctx.closedSessions.push(toSession(state));
          continue;
        }
        const e = event.enriched!;
        fold(state, e.eventType, at, e.adPlayheadMs);
        state.maxOffset = offset;
        changed = true;
        if (state.closed) {
          // Late: the session was already emitted; emit the corrected one.
          state.version++;
          state.closeReason = 'late';
          state.closedByOffset = offset;
          ctx.closedSessions.push(toSession(state));
        } else if (TERMINAL.has(e.eventType)) {
          state.closed = true;
          state.version++;
          state.closeReason = e.eventType as SessionState['closeReason'];
          state.closedAt = at;
          state.closedByOffset = offset;
          ctx.closedSessions.push(toSession(state));
        }
      }
      if (state !== undefined && changed) {
        states.push({ key: stateKey(id), value: JSON.stringify(state) });
        if (state.closed) closed.push(id);
        else open.push({ member: id, score: this.#deadline(state) });
      }
    });
    // The batch's states in one call (one command on Redis, not one per ad instance).
    if (states.length > 0) writes.push(this.#state.setMany(states, this.#options.stateTtlMs));
    if (open.length > 0) writes.push(this.#state.sortedAdd(index, open));
    if (closed.length > 0) writes.push(this.#state.sortedRemove(index, closed));
    await Promise.all(writes);
    return events.map(() => EMIT);
  }

  async process(event: PipelineEvent, ctx: StepContext): Promise<StepResult> {
    return (await this.processBatch([event], ctx))[0]!;
  }

  /** Closes the sessions whose inactivity deadline the watermark has passed. */
  async onWatermark(watermark: number, ctx: StepContext): Promise<void> {
    const index = indexKey(ctx.topic, ctx.partition);
    const due = await this.#state.sortedRange(index, Number.NEGATIVE_INFINITY, watermark, 2_000);
    if (due.length === 0) return;
    const stored = await this.#state.getMany(due.map((d) => stateKey(d.member)));
    const toWrite: SessionState[] = [];
    const stale: string[] = [];
    due.forEach((d, i) => {
      const text = stored[i];
      if (text === null || text === undefined) {
        stale.push(d.member); // expired state: nothing to emit
        return;
      }
      const state = JSON.parse(text) as SessionState;
      if (state.closed) {
        stale.push(d.member);
        return;
      }
      state.closed = true;
      state.version++;
      state.closeReason = 'inactivity';
      state.closedAt = this.#deadline(state);
      ctx.closedSessions.push(toSession(state));
      toWrite.push(state);
    });
    // Persist the close only once the sessions are delivered: if delivery fails, the
    // next watermark closes them again with the same version.
    ctx.afterDelivery.push(async () => {
      await Promise.all([
        this.#state.setMany(
          toWrite.map((s) => ({ key: stateKey(s.adInstanceId), value: JSON.stringify(s) })),
          this.#options.stateTtlMs,
        ),
        this.#state.sortedRemove(index, [...stale, ...toWrite.map((s) => s.adInstanceId)]),
      ]);
    });
  }
}
