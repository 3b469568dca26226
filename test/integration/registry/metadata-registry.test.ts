/**
 * The Ads Metadata Registry on both state backends: content-addressed, idempotent,
 * one entry per ad however many viewers, with a TTL that covers late events.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataRegistry } from '../../../src/ads/registry/metadata-registry.ts';
import { metadataIdOf, type AdMetadata } from '../../../src/ads/registry/ad-metadata.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { RedisStateStore } from '../../../src/state/redis-state.ts';
import type { StateStore } from '../../../src/state/state-store.ts';
import { service } from '../../helpers/services.ts';
import { uniqueName } from '../../helpers/wait.ts';

const redis = service('redis');

const backends: Array<{ name: string; skip: string | false; open: () => StateStore }> = [
  { name: 'memory', skip: false, open: () => new MemoryStateStore() },
  { name: 'redis', skip: redis.skip, open: () => new RedisStateStore({ url: redis.url ?? '', keyPrefix: `${uniqueName('reg')}:` }) },
];

for (const backend of backends) {
  describe(`metadata registry on ${backend.name}`, { skip: backend.skip }, () => {
    const states: StateStore[] = [];
    const open = (): StateStore => {
      const s = backend.open();
      states.push(s);
      return s;
    };
    after(() => Promise.all(states.map((s) => s.close())));

    it('stores one entry per ad, whatever the number of puts, under its content hash', async () => {
      const state = open();
      const registry = new MetadataRegistry(state);
      const ids = await Promise.all(Array.from({ length: 50 }, () => registry.put(sampleMetadata())));
      assert.equal(new Set(ids).size, 1);
      assert.equal(ids[0], metadataIdOf(sampleMetadata()));
      assert.match(ids[0]!, /^[A-Za-z0-9_-]{22}$/);
      const other = await registry.put(sampleMetadata({ creativeId: 'cr-2' }));
      assert.notEqual(other, ids[0], 'different content, different entry');
      const ttl = await state.ttl(`reg:${ids[0]}`);
      assert.ok(ttl !== null && ttl > 6.9 * 24 * 3600 * 1000, 'kept for 7 days for late events');
    });

    it('serves another process (a fresh registry on the same store) from the store', async () => {
      const state = open();
      const mid = await new MetadataRegistry(state).put(sampleMetadata({ adId: 'ad-77' }));
      const reader = new MetadataRegistry(state);
      assert.deepEqual(await reader.get(mid), sampleMetadata({ adId: 'ad-77' }));
      await reader.get(mid);
      assert.deepEqual(reader.cacheStats(), { hits: 1, misses: 1, size: 1 });
      assert.equal(await reader.get('AAAAAAAAAAAAAAAAAAAAAA'), null);
    });

    it('does not depend on key order: equal content hashes the same', () => {
      const a = sampleMetadata();
      const b = Object.fromEntries(Object.entries(a).reverse()) as unknown as AdMetadata;
      assert.equal(metadataIdOf(a), metadataIdOf(b));
    });
  });
}
