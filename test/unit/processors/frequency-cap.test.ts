import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrequencyCapProcessor } from '../../../processors/frequency-cap/processor.ts';
import { HashProcessor } from '../../../processors/hash/processor.ts';
import { EnrichProcessor } from '../../../processors/enrich/processor.ts';
import { parseCapRules, profileKeyOf, readCapCounts } from '../../../src/ads/caps/index.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { pipelineEvent, stepContext } from '../../helpers/pipeline-events.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import type { EventType } from '../../../schemas/types.ts';

const NOW = Date.UTC(2026, 10, 25, 20, 0, 0);
const CAP_KEY = Buffer.alloc(32, 5);
const rules = parseCapRules([{ scope: 'campaign', max: 3, window: '24h' }]);

async function event(type: EventType, eventId: string, offset: number) {
  const e = await pipelineEvent({ eventType: type, eventId, occurredAt: NOW - 1000, receivedAt: NOW - 900 }, offset);
  e.claims = { v: 1, mid: 'AAECAwQFBgcICQoLDA0ODw', ad: null, cr: null, cmp: null, seq: 1, brk: null, iat: 0, exp: 0, sid: null };
  e.metadata = sampleMetadata();
  e.metadataId = e.claims.mid;
  new EnrichProcessor({ botListFile: '' }).process(e, stepContext(NOW));
  new HashProcessor({ kid: 'h', secret: Buffer.alloc(32, 1), createdAt: '' }, CAP_KEY).process(e);
  return e;
}

describe('frequency-cap', () => {
  it('counts impressions only, once per event id, for the viewer the Ads Manager checks', async () => {
    const state = new MemoryStateStore();
    const caps = new FrequencyCapProcessor(state, rules);
    const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
    const batch = [await event('impression', ids[0]!, 1), await event('start', '00000000-0000-4000-8000-000000000009', 2), await event('impression', ids[1]!, 3)];
    assert.deepEqual((await caps.processBatch(batch, stepContext(NOW))).map((r) => r.kind), ['emit', 'emit', 'emit'], 'counting never drops');
    await caps.processBatch([await event('impression', ids[0]!, 1)], stepContext(NOW)); // a replay
    assert.equal(caps.counted, 2);
    // The decision side derives the same key from the raw profile id (sample events carry prof-1).
    const counts = await readCapCounts(state, rules, profileKeyOf(CAP_KEY, 'prof-1', 'dev-1')!, [sampleMetadata()], null, NOW);
    assert.deepEqual([...counts.values()], [2]);
  });

  it('does nothing without rules', async () => {
    const caps = new FrequencyCapProcessor(new MemoryStateStore(), []);
    await caps.processBatch([await event('impression', '00000000-0000-4000-8000-000000000003', 1)], stepContext(NOW));
    assert.equal(caps.counted, 0);
  });
});
