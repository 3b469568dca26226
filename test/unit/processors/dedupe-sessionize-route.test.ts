import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DedupeProcessor } from '../../../processors/dedupe/processor.ts';
import { SessionizeProcessor } from '../../../processors/sessionize/processor.ts';
import { RouteProcessor } from '../../../processors/route/processor.ts';
import { routingTable } from '../../../processors/route/routing-table.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { PipelineEvent } from '../../../src/pipeline/pipeline-event.ts';
import { pipelineEvent, stepContext } from '../../helpers/pipeline-events.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import type { AdEvent, EventType } from '../../../schemas/types.ts';

const T0 = Date.UTC(2026, 10, 25, 20, 0, 0);

describe('dedupe', () => {
  const ID = '11111111-1111-4111-8111-111111111111';

  it('passes a replay (same id, same position) and drops a duplicate (same id, another position)', async () => {
    const dedupe = new DedupeProcessor(new MemoryStateStore(), { ttlMs: 60_000 });
    const first = await pipelineEvent({ eventId: ID }, 10);
    assert.equal((await dedupe.process(first)).kind, 'emit');
    assert.equal((await dedupe.process(await pipelineEvent({ eventId: ID }, 10))).kind, 'emit', 'a re-read of offset 10 is a replay');
    assert.deepEqual(await dedupe.process(await pipelineEvent({ eventId: ID }, 11)), { kind: 'drop', reason: 'duplicate' });
  });

  it('keeps the first sighting within one batch', async () => {
    const dedupe = new DedupeProcessor(new MemoryStateStore(), { ttlMs: 60_000 });
    const events = [await pipelineEvent({ eventId: ID }, 1), await pipelineEvent({ eventId: ID }, 2), await pipelineEvent({}, 3)];
    assert.deepEqual((await dedupe.processBatch(events)).map((r) => r.kind), ['emit', 'drop', 'emit']);
  });

  it('treats a dead-letter replay (origin position header) as a replay, not a duplicate', async () => {
    const dedupe = new DedupeProcessor(new MemoryStateStore(), { ttlMs: 60_000 });
    await dedupe.process(await pipelineEvent({ eventId: ID }, 5));
    const replayed = await pipelineEvent({ eventId: ID }, 900);
    const moved = new PipelineEvent({ ...replayed.source, originOffset: '5' });
    moved.raw = replayed.raw;
    assert.equal((await dedupe.process(moved)).kind, 'emit');
  });
});

async function sessionEvent(type: EventType, offset: number, at: number, extra: Partial<AdEvent> = {}): Promise<PipelineEvent> {
  const event = await pipelineEvent({ eventType: type, adInstanceId: 'ai-1', occurredAt: at, receivedAt: at + 100, ...extra }, offset);
  event.metadata = sampleMetadata({ durationMs: 15_000 });
  event.enriched = {
    eventId: event.raw!.eventId, eventType: type, playbackSessionId: 'pbs-1', adInstanceId: 'ai-1', occurredAt: at, receivedAt: at + 100, processedAt: at,
    skewMs: 100, adPlayheadMs: extra.adPlayheadMs ?? null, errorCode: null, metadataId: 'm', adId: 'a', creativeId: 'c', campaignId: 'k', lineItemId: '',
    advertiserId: '', podSequence: 1, pricingModel: '', priceMicros: 0, currency: '', deviceClass: 'ctv', osName: '', country: '', appName: '', appVersion: '',
    profileHash: 'p', deviceHash: '', ipHash: '', hashKeyId: 'h', vendorIds: {}, consent: event.raw!.consent, live: null, source: { topic: 't', partition: 0, offset },
  };
  return event;
}

describe('sessionize', () => {
  const options = { gapMs: 120_000, stateTtlMs: 3600_000 };

  const journeys: Array<[string, Array<[EventType, number]>, Record<string, unknown>]> = [
    ['a completed view', [['impression', 0], ['start', 0], ['firstQuartile', 3750], ['midpoint', 7500], ['thirdQuartile', 11250], ['complete', 15000]],
      { closeReason: 'complete', completed: true, quartilesReached: 4, watchedMs: 15000, started: true, eventCount: 6 }],
    ['a skip at the midpoint', [['impression', 0], ['start', 0], ['firstQuartile', 3750], ['midpoint', 7500], ['skip', 8000]],
      { closeReason: 'skip', skipped: true, completed: false, quartilesReached: 2, watchedMs: 8000 }],
    ['an error', [['impression', 0], ['error', 0]], { closeReason: 'error', errors: 1, started: false }],
    ['clicks and a viewable verdict', [['impression', 0], ['viewableImpression', 2000], ['click', 3000], ['click', 4000], ['closeLinear', 5000]],
      { closeReason: 'closeLinear', clicks: 2, viewability: 'viewable' }],
  ];
  for (const [what, steps, expected] of journeys) {
    it(`folds ${what}`, async () => {
      const sessionize = new SessionizeProcessor(new MemoryStateStore(), options);
      const ctx = stepContext(T0);
      const events = await Promise.all(steps.map(([type, playhead], i) => sessionEvent(type, i, T0 + i * 1000, { adPlayheadMs: playhead })));
      await sessionize.processBatch(events, ctx);
      assert.equal(ctx.closedSessions.length, 1);
      const session = ctx.closedSessions[0]!;
      for (const [field, value] of Object.entries(expected)) assert.deepEqual(session[field as keyof typeof session], value, field);
      assert.equal(session.version, 1);
    });
  }

  it('ignores a replayed batch, but emits its closed session again unchanged', async () => {
    const state = new MemoryStateStore();
    const sessionize = new SessionizeProcessor(state, options);
    const events = [await sessionEvent('impression', 0, T0), await sessionEvent('click', 1, T0 + 10), await sessionEvent('complete', 2, T0 + 20)];
    const first = stepContext(T0);
    await sessionize.processBatch(events, first);
    const again = stepContext(T0);
    await sessionize.processBatch(events, again);
    assert.deepEqual(again.closedSessions, first.closedSessions, 'same session, same version, no double count');
    assert.equal(again.closedSessions[0]!.clicks, 1);
  });

  it('emits a corrected session (version 2, late) for an event after the close', async () => {
    const sessionize = new SessionizeProcessor(new MemoryStateStore(), options);
    await sessionize.processBatch([await sessionEvent('impression', 0, T0), await sessionEvent('complete', 1, T0 + 15_000)], stepContext(T0));
    const late = stepContext(T0);
    await sessionize.processBatch([await sessionEvent('click', 2, T0 + 16_000)], late);
    assert.deepEqual({ v: late.closedSessions[0]!.version, reason: late.closedSessions[0]!.closeReason, clicks: late.closedSessions[0]!.clicks }, { v: 2, reason: 'late', clicks: 1 });
  });

  it('closes on inactivity only once the watermark passes duration + gap, and persists after delivery', async () => {
    const state = new MemoryStateStore();
    const sessionize = new SessionizeProcessor(state, options);
    await sessionize.processBatch([await sessionEvent('impression', 0, T0), await sessionEvent('start', 1, T0)], stepContext(T0));
    const early = stepContext(T0);
    await sessionize.onWatermark(T0 + 15_000 + 119_000, early);
    assert.equal(early.closedSessions.length, 0);
    const due = stepContext(T0);
    await sessionize.onWatermark(T0 + 15_000 + 120_000, due);
    assert.equal(due.closedSessions[0]!.closeReason, 'inactivity');
    // Not yet delivered: the next watermark closes it again, same version.
    const retry = stepContext(T0);
    await sessionize.onWatermark(T0 + 200_000, retry);
    assert.equal(retry.closedSessions[0]!.version, due.closedSessions[0]!.version);
    for (const task of retry.afterDelivery) await task();
    const after = stepContext(T0);
    await sessionize.onWatermark(T0 + 300_000, after);
    assert.equal(after.closedSessions.length, 0, 'delivered sessions are not emitted again');
  });
});

describe('route', () => {
  const cases: Array<[EventType, string[]]> = [
    ['impression', ['billing', 'enriched', 'pixels', 'warehouse']],
    ['firstQuartile', ['enriched', 'pixels', 'warehouse']],
    ['heartbeat', ['enriched']],
    ['adBreakStart', ['enriched', 'warehouse']],
  ];
  for (const [type, targets] of cases) {
    it(`sends ${type} to ${targets.join(', ')} by default`, async () => {
      const event = await sessionEvent(type, 0, T0);
      new RouteProcessor(routingTable()).process(event);
      assert.deepEqual([...event.routes].sort(), targets);
    });
  }
  it('lets config override one event type', async () => {
    const event = await sessionEvent('heartbeat', 0, T0);
    new RouteProcessor(routingTable({ heartbeat: ['enriched', 'warehouse'] })).process(event);
    assert.deepEqual([...event.routes].sort(), ['enriched', 'warehouse']);
  });
});
