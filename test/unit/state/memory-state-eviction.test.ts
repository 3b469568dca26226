/**
 * The embedded state store when it is full: it keeps the newest entries, drops the
 * expired and the oldest first, and frees a twentieth of its room at a time, so that
 * the inserts that follow do not each pay for another eviction (each one read the whole
 * map before).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOW_WATER, MemoryStateStore } from '../../../src/state/memory-state.ts';

describe('the embedded state store, full', () => {
  it('evicts expired entries first, then the oldest, down to the low-water mark, and keeps the newest', async () => {
    let now = 1_000_000;
    const store = new MemoryStateStore({ maxEntries: 1_000, now: () => now });
    try {
      await store.setMany(Array.from({ length: 100 }, (_, i) => ({ key: `short-${i}`, value: 's' })), 1_000);
      await store.setMany(Array.from({ length: 900 }, (_, i) => ({ key: `old-${i}`, value: 'o' })));
      now += 5_000; // the short-lived ones have expired, unswept
      await store.setMany(Array.from({ length: 100 }, (_, i) => ({ key: `new-${i}`, value: 'n' })));
      assert.equal(store.size, 1_000, 'the expired entries made room; nothing live was evicted');
      assert.equal(await store.get('short-0'), null);
      assert.equal(await store.get('old-0'), 'o');
      await store.set('newest', 'n');
      assert.equal(store.size, Math.floor(1_000 * LOW_WATER), 'a full store is brought down to its low-water mark');
      assert.equal(await store.get('old-0'), null, 'the oldest went first');
      assert.equal(await store.get('old-50'), null);
      assert.equal(await store.get('old-51'), 'o', 'later ones stay');
      assert.equal(await store.get('new-99'), 'n');
      assert.equal(await store.get('newest'), 'n');
      for (let i = 0; i < 50; i++) await store.set(`after-${i}`, 'a');
      assert.equal(store.size, 1_000, 'the room freed takes the next inserts');
      assert.equal(await store.get('old-51'), 'o', 'without evicting again');
    } finally {
      await store.close();
    }
  });
});
