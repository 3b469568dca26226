/** The LRU cache in front of tokens, registry entries, user agents and hashes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from '../../../src/core/lru-cache.ts';

describe('LRU cache', () => {
  const cases: Array<[string, (c: LruCache<string, number>) => void, string[]]> = [
    ['evicts the least recently set entry', (c) => ['a', 'b', 'c', 'd'].forEach((k, i) => c.set(k, i)), ['b', 'c', 'd']],
    ['keeps an entry that was read since', (c) => (c.set('a', 1), c.set('b', 2), c.set('c', 3), c.get('a'), c.set('d', 4)), ['a', 'c', 'd']],
    ['keeps an entry read several times in a row', (c) => (c.set('a', 1), c.set('b', 2), c.get('b'), c.get('b'), c.set('c', 3), c.get('a'), c.get('a'), c.set('d', 4)), ['a', 'c', 'd']],
    ['counts a deleted entry as gone, then as new when set again', (c) => (c.set('a', 1), c.set('b', 2), c.delete('b'), c.set('c', 3), c.set('b', 5), c.set('d', 4)), ['b', 'c', 'd']],
  ];
  for (const [what, steps, kept] of cases) {
    it(what, () => {
      const cache = new LruCache<string, number>({ maxEntries: 3, ttlMs: 0 });
      steps(cache);
      assert.deepEqual(['a', 'b', 'c', 'd'].filter((k) => cache.get(k) !== undefined), kept);
    });
  }

  it('expires entries after their lifetime, and never those without one', () => {
    let now = 1_000;
    const expiring = new LruCache<string, number>({ maxEntries: 10, ttlMs: 100, now: () => now });
    const forever = new LruCache<string, number>({ maxEntries: 10, ttlMs: 0, now: () => now });
    expiring.set('a', 1);
    forever.set('a', 1);
    now += 99;
    assert.equal(expiring.get('a'), 1);
    now += 1;
    assert.equal(expiring.get('a'), undefined);
    now += 1e9;
    assert.equal(forever.get('a'), 1);
    assert.deepEqual([expiring.hits, expiring.misses], [1, 1]);
  });
});
