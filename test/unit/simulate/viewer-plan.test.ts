/** The simulator's plans: deterministic per seed, and shaped like real viewing. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SIMULATION, checkSimulationOptions } from '../../../src/simulate/options.ts';
import { planViewer } from '../../../src/simulate/viewer-plan.ts';

const options = { ...DEFAULT_SIMULATION, viewers: 500, skipRate: 0.3, dropOffRate: 0.2, duplicateRate: 0.1, lateRate: 0.2, badRate: 0.2 };
const plansOf = (seed: number) => Array.from({ length: options.viewers }, (_, v) => planViewer({ ...options, seed }, v, 0));

describe('viewer plans', () => {
  it('are the same for the same seed and differ for another', () => {
    assert.deepEqual(plansOf(7), plansOf(7));
    assert.notDeepEqual(plansOf(7), plansOf(8));
  });

  it('start every ad with an impression and end it with at most one terminal event, in playhead order', () => {
    for (const plan of plansOf(3)) {
      const bySeq = new Map<number, string[]>();
      for (const e of plan.events) bySeq.set(e.sequence, [...(bySeq.get(e.sequence) ?? []), e.type]);
      for (const types of bySeq.values()) {
        assert.equal(types[0], 'impression');
        const terminals = types.filter((t) => t === 'complete' || t === 'skip');
        assert.ok(terminals.length <= 1, types.join());
        if (terminals.length === 1) assert.equal(types.at(-1), terminals[0]);
      }
      const times = plan.events.map((e) => e.atMs);
      assert.deepEqual(times, [...times].sort((a, b) => a - b), 'events are planned in time order');
    }
  });

  it('skips only once an ad is skippable, and mixes every behaviour at these rates', () => {
    const plans = plansOf(11);
    const events = plans.flatMap((p) => p.events);
    for (const e of events.filter((x) => x.type === 'skip')) assert.ok(e.playheadMs >= 5000, `skip at ${e.playheadMs} ms`);
    assert.ok(events.some((e) => e.type === 'skip'));
    assert.ok(events.some((e) => e.duplicate));
    assert.ok(events.some((e) => e.late));
    assert.ok(events.filter((e) => e.late).every((e) => ['firstQuartile', 'midpoint', 'thirdQuartile'].includes(e.type)));
    assert.ok(plans.some((p) => p.droppedOff));
    const kinds = new Set(plans.flatMap((p) => p.bad.map((b) => b.kind)));
    assert.deepEqual([...kinds].sort(), ['malformed', 'tampered']);
  });

  it('rejects options a user could mistype, naming the flag', () => {
    assert.match(checkSimulationOptions({ ...DEFAULT_SIMULATION, skipRate: 1.5 }) ?? '', /--skip-rate/);
    assert.match(checkSimulationOptions({ ...DEFAULT_SIMULATION, viewers: 0 }) ?? '', /--viewers/);
    assert.equal(checkSimulationOptions(DEFAULT_SIMULATION), undefined);
  });
});
