/**
 * The guarantees that matter when processes die, on both backends:
 * - a crash after the sinks acknowledged but before the commit replays the batch, with
 *   no lost event and no doubled effect (sessions keep their counts and version);
 * - a rebalance while sessions are open hands them over intact.
 */
import { crashingBeforeCommit } from '../../helpers/crashing-transport.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '../../../src/transport/topics.ts';
import { PipelineComponent } from '../../../src/pipeline/pipeline-component.ts';
import type { EngineContext } from '../../../src/core/engine.ts';
import { backendSets, keyedBy, readTopic, type TestEngine } from '../../helpers/engine.ts';
import { adFor, playEvent, sendEvents, startPipelineEngine } from '../../helpers/pipeline.ts';
import { plain } from '../../helpers/events.ts';
import { waitFor } from '../../helpers/wait.ts';
import { migrate } from '../../../src/warehouse/migrate.ts';
import { loadCapKey, parseCapRules, profileKeyOf, readCapCounts } from '../../../src/ads/caps/index.ts';


for (const set of backendSets()) {
  describe(`replay and rebalance on ${set.name} backends`, { skip: set.skip, timeout: 240_000 }, () => {
    let t: TestEngine;
    before(async () => {
      // The engine runs only the collector; the test runs the pipeline members itself.
      t = await startPipelineEngine(
        set,
        { ads: { capRules: [{ scope: 'campaign', max: 100, window: '24h' }, { scope: 'creative', max: 100, window: 'day' }, { scope: 'campaign', max: 100, window: 'live-event' }] } },
        'collector',
      );
      // The pipeline members below are started by hand in a collector engine, which does
      // not migrate: give their ClickHouse sink its tables, as `quartile migrate` would.
      await migrate(t.engine.context.backends.warehouse);
    });
    after(() => t.stop());
    const ctx = (): EngineContext => t.engine.context;

    it('replays after a crash between sink acknowledgement and commit: nothing lost, nothing doubled', async () => {
      const groupId = `crash-${randomUUID()}`;
      const campaign = `cmp-${randomUUID().slice(0, 8)}`;
      const { token, metadata } = await adFor(t, { campaignId: campaign });
      const session = `s-${randomUUID()}`;
      const ad = `${session}-1`;
      const profileId = `viewer-${randomUUID()}`;
      const live = { live: { liveEventId: 'final-2026', breakId: 'b1' } };
      const events = [
        playEvent(token, session, ad, 'impression', { device: { profileId }, ...live }),
        playEvent(token, session, ad, 'click', { device: { profileId }, ...live }),
        playEvent(token, session, ad, 'complete', { device: { profileId }, ...live }),
      ];

      const doomed = new PipelineComponent({ ...ctx(), backends: { ...ctx().backends, transport: crashingBeforeCommit(ctx().backends.transport) } }, {}, { groupId });
      await doomed.start();
      await sendEvents(t, events);
      const first = await readTopic(ctx().backends.transport, TOPICS.sessions, 1, keyedBy(ad));
      await doomed.stop(); // "crash": everything was delivered, nothing committed

      const survivor = new PipelineComponent(ctx(), {}, { groupId });
      await survivor.start();
      try {
        const sessions = await readTopic(ctx().backends.transport, TOPICS.sessions, 2, keyedBy(ad), 60_000);
        const decoded = await Promise.all(sessions.map(async (r) => plain(await ctx().codec.decode(TOPICS.sessions, r.value!))));
        assert.deepEqual(decoded[1], decoded[0], 'the replayed session is the same session, same version');
        assert.equal(decoded[0]!.clicks, 1, 'the click is counted once');
        assert.equal(decoded[0]!.version, 1);
        const enriched = await readTopic(ctx().backends.transport, TOPICS.enriched, 3, keyedBy(session));
        const ids = new Set(await Promise.all(enriched.map(async (r) => (await ctx().codec.decode(TOPICS.enriched, r.value!)).eventId)));
        assert.deepEqual([...ids].sort(), events.map((e) => e['eventId'] as string).sort(), 'every event made it through');
        const dropped = await ctx().metrics.registry.getSingleMetricAsString('quartile_stage_dropped_total');
        assert.ok(!/reason="duplicate"/.test(dropped), 'a replay is not a duplicate');
        void first;

        // The impression was counted for every cap rule exactly once, though processed twice.
        const rules = parseCapRules(ctx().config.ads.capRules);
        const profileKey = profileKeyOf(loadCapKey(ctx().config), profileId, null)!;
        const counts = await readCapCounts(ctx().backends.state, rules, profileKey, [metadata], 'final-2026');
        assert.deepEqual([...counts.values()], [1, 1, 1], `cap counts ${JSON.stringify([...counts])}`);
      } finally {
        await survivor.stop();
      }
    });

    it('hands open sessions over intact when a member leaves the group', async () => {
      const groupId = `rebalance-${randomUUID()}`;
      const { token } = await adFor(t);
      const a = new PipelineComponent(ctx(), {}, { groupId });
      const b = new PipelineComponent(ctx(), {}, { groupId });
      await a.start();
      await b.start();
      await waitFor('both members own partitions', () => a.runtime.assignment().length > 0 && b.runtime.assignment().length > 0, 60_000);

      const sessions = Array.from({ length: 12 }, () => `s-${randomUUID()}`);
      await sendEvents(t, sessions.flatMap((s) => [playEvent(token, s, `${s}-1`, 'impression'), playEvent(token, s, `${s}-1`, 'start')]));
      await waitFor('sessions opened', async () => {
        const states = await ctx().backends.state.getMany(sessions.map((s) => `ses:${s}-1`));
        return states.every((x) => x !== null);
      }, 60_000);

      await a.stop(); // b takes over a's partitions and their open sessions
      try {
        await sendEvents(t, sessions.map((s) => playEvent(token, s, `${s}-1`, 'complete')));
        const closed = await readTopic(ctx().backends.transport, TOPICS.sessions, 12, keyedBy(...sessions.map((s) => `${s}-1`)), 90_000);
        const decoded = await Promise.all(closed.map(async (r) => ctx().codec.decode(TOPICS.sessions, r.value!)));
        assert.equal(new Set(decoded.map((d) => d.adInstanceId)).size, 12);
        for (const s of decoded) {
          assert.deepEqual({ events: s.eventCount, started: s.started, completed: s.completed, version: s.version }, { events: 3, started: true, completed: true, version: 1 }, s.adInstanceId);
        }
      } finally {
        await b.stop();
      }
    });
  });
}
