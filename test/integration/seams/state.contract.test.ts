/**
 * The state contract: one suite, run against the embedded store and against real
 * Redis. Dedupe, caps, sessions, the registry and the beacon ledger rely on these
 * exact semantics (atomic set-if-absent, idempotent counting, TTLs, sorted sets).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { RedisStateStore } from '../../../src/state/redis-state.ts';
import type { StateStore } from '../../../src/state/state-store.ts';
import { service } from '../../helpers/services.ts';
import { sleep, uniqueName } from '../../helpers/wait.ts';

const redis = service('redis');

const backends: Array<{ name: string; skip: string | false; open: () => StateStore }> = [
  { name: 'memory', skip: false, open: () => new MemoryStateStore() },
  {
    name: 'redis',
    skip: redis.skip,
    open: () => new RedisStateStore({ url: redis.url ?? '', keyPrefix: `${uniqueName('contract')}:` }),
  },
];

for (const backend of backends) {
  describe(`state contract: ${backend.name}`, { skip: backend.skip }, () => {
    let state: StateStore;
    before(() => {
      state = backend.open();
    });
    after(() => state.close());

    it('gets, sets, deletes and reads many keys at once', async () => {
      assert.equal(await state.get('a'), null);
      await state.set('a', '1');
      await state.set('b', 'two');
      assert.deepEqual(await state.getMany(['a', 'missing', 'b']), ['1', null, 'two']);
      assert.equal(await state.delete(['a', 'missing']), 1);
      assert.equal(await state.get('a'), null);
    });

    it('expires keys after their TTL', async () => {
      await state.set('short', 'x', 150);
      const ttl = await state.ttl('short');
      assert.ok(ttl !== null && ttl > 0 && ttl <= 150, `ttl ${ttl}`);
      assert.equal(await state.ttl('forever-missing'), null);
      await state.set('forever', 'y');
      assert.equal(await state.ttl('forever'), -1);
      await sleep(250);
      assert.equal(await state.get('short'), null);
    });

    it('lets exactly one of many concurrent callers claim a key', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => state.setIfAbsent('claim', `p${i}`, 10_000)));
      const winners = results.filter((r) => r === null);
      assert.equal(winners.length, 1);
      const winner = `p${results.indexOf(null)}`;
      assert.ok(results.every((r) => r === null || r === winner), 'losers see the winner’s value');
    });

    it('sets many keys at once, with one TTL', async () => {
      await state.setMany([{ key: 'many-a', value: '1' }, { key: 'many-b', value: 'two' }], 150);
      assert.deepEqual(await state.getMany(['many-a', 'many-b']), ['1', 'two']);
      const ttl = await state.ttl('many-b');
      assert.ok(ttl !== null && ttl > 0 && ttl <= 150, `ttl ${ttl}`);
      await state.setMany([{ key: 'many-a', value: 'replaced' }]);
      assert.equal(await state.get('many-a'), 'replaced');
      assert.equal(await state.ttl('many-a'), -1);
      await sleep(250);
      assert.equal(await state.get('many-b'), null);
      // More keys than one Redis script call takes.
      const large = Array.from({ length: 600 }, (_, i) => ({ key: `many-large-${i}`, value: `v${i}` }));
      await state.setMany(large, 60_000);
      assert.deepEqual(await state.getMany(large.map((e) => e.key)), large.map((e) => e.value));
      const largeTtl = await state.ttl('many-large-599');
      assert.ok(largeTtl !== null && largeTtl > 0 && largeTtl <= 60_000, `ttl ${largeTtl}`);
    });

    it('claims many keys at once, each for exactly one of concurrent callers', async () => {
      await state.set('claims-taken', 'someone');
      const keys = ['claims-1', 'claims-taken', 'claims-2'];
      const claim = (value: string) => state.setIfAbsentMany(keys.map((key) => ({ key, value })), 10_000);
      const [first, second] = await Promise.all([claim('me'), claim('you')]);
      assert.equal(first![1], 'someone');
      assert.equal(second![1], 'someone');
      for (const i of [0, 2]) {
        assert.equal([first![i], second![i]].filter((r) => r === null).length, 1, `${keys[i]} has one owner`);
        assert.equal(await state.get(keys[i]!), first![i] === null ? 'me' : 'you');
      }
      const ttl = await state.ttl('claims-1');
      assert.ok(ttl !== null && ttl > 0 && ttl <= 10_000);
    });

    it('claims a large batch of keys, each with its own value, and answers each in order', async () => {
      // More keys than one Redis script call takes, so the answer spans several.
      const entries = Array.from({ length: 700 }, (_, i) => ({ key: `batch-claim-${i}`, value: `pos-${i}` }));
      await state.setMany([{ key: 'batch-claim-3', value: 'earlier' }, { key: 'batch-claim-650', value: 'earlier-too' }]);
      const answers = await state.setIfAbsentMany(entries);
      assert.equal(answers.length, entries.length);
      assert.equal(answers[3], 'earlier');
      assert.equal(answers[650], 'earlier-too');
      assert.equal(answers.filter((a) => a === null).length, entries.length - 2);
      assert.deepEqual(await state.getMany(['batch-claim-0', 'batch-claim-3', 'batch-claim-699']), ['pos-0', 'earlier', 'pos-699']);
      assert.equal(await state.ttl('batch-claim-0'), -1, 'no TTL given: no expiry');
      const again = await state.setIfAbsentMany(entries.slice(0, 2).map((e) => ({ ...e, value: 'later' })));
      assert.deepEqual(again, ['pos-0', 'pos-1']);
      assert.deepEqual(await state.setIfAbsentMany([]), []);
    });

    it('counts with TTLs', async () => {
      assert.equal(await state.incrBy('n', 2, 10_000), 2);
      assert.equal(await state.incrBy('n', 3), 5);
      const ttl = await state.ttl('n');
      assert.ok(ttl !== null && ttl > 5_000, 'an increment without TTL keeps the existing expiry');
    });

    it('applies a guarded increment once per guard, even when called concurrently', async () => {
      const increments = [
        { key: 'cap:campaign:c1', by: 1, ttlMs: 60_000 },
        { key: 'cap:creative:k1', by: 1, ttlMs: 60_000 },
      ];
      const calls = await Promise.all([
        state.incrementOnce('ledger:e1', 60_000, increments),
        state.incrementOnce('ledger:e1', 60_000, increments),
        state.incrementOnce('ledger:e1', 60_000, increments),
      ]);
      assert.equal(calls.filter((c) => c.applied).length, 1);
      assert.ok(calls.every((c) => c.values[0] === 1 && c.values[1] === 1), 'everyone sees the counts after the one increment');
      const next = await state.incrementOnce('ledger:e2', 60_000, increments);
      assert.deepEqual(next, { applied: true, values: [2, 2] });
      const ttl = await state.ttl('cap:campaign:c1');
      assert.ok(ttl !== null && ttl > 0 && ttl <= 60_000);
    });

    it('keeps sorted sets ordered by score and removes members', async () => {
      await state.sortedAdd('open', [
        { member: 's3', score: 300 },
        { member: 's1', score: 100 },
        { member: 's2', score: 200 },
      ]);
      await state.sortedAdd('open', [{ member: 's1', score: 250 }]);
      assert.deepEqual(await state.sortedRange('open', 0, 260), [
        { member: 's2', score: 200 },
        { member: 's1', score: 250 },
      ]);
      assert.deepEqual(await state.sortedRange('open', 0, Number.MAX_SAFE_INTEGER, 1), [{ member: 's2', score: 200 }]);
      assert.equal(await state.sortedRemove('open', ['s2', 'nope']), 1);
      assert.deepEqual((await state.sortedRange('open', 0, 1_000)).map((m) => m.member), ['s1', 's3']);
      assert.deepEqual(await state.sortedRange('never', 0, 10), []);
      assert.deepEqual((await state.sortedRange('open', Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).map((m) => m.member), ['s1', 's3']);
    });

    it('answers a ping while it is up', async () => {
      await state.ping();
    });
  });
}
