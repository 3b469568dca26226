import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecryptProcessor } from '../../../processors/decrypt/processor.ts';
import { ResolveProcessor } from '../../../processors/resolve/processor.ts';
import { MetadataRegistry } from '../../../src/ads/registry/metadata-registry.ts';
import { MemoryStateStore } from '../../../src/state/memory-state.ts';
import { pipelineEvent, stepContext } from '../../helpers/pipeline-events.ts';
import { testTokens } from '../../helpers/pipeline.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import { generateJwk, TokenKeyring } from '../../../src/ads/tokens/keyring.ts';
import { TokenService } from '../../../src/ads/tokens/token-service.ts';

const NOW = Date.UTC(2026, 10, 25, 20, 0, 0);
const MID = 'AAECAwQFBgcICQoLDA0ODw';

describe('decrypt', () => {
  it('caches claims by token string: every event of an ad shares one decrypt', async () => {
    const tokens = testTokens();
    const token = await tokens.mint({ mid: MID, ad: 'a', cr: 'c', cmp: 'k', seq: 1, brk: 'b1' }, NOW);
    const decrypt = new DecryptProcessor(tokens, { cacheEntries: 100 });
    for (let i = 0; i < 5; i++) {
      const event = await pipelineEvent({ token }, i);
      assert.equal(decrypt.process(event, stepContext(NOW)).kind, 'emit');
      assert.equal(event.claims!.brk, 'b1');
    }
    assert.deepEqual(decrypt.cacheStats(), { hits: 4, misses: 1 });
  });

  const cases: Array<[string, () => Promise<{ token: string; session?: string; now?: number }>, string]> = [
    ['an expired token (even when cached earlier)', async () => ({ token: await testTokens().mint({ mid: MID, ad: null, cr: null, cmp: null, seq: 1, brk: null }, NOW - 7200_000) }), 'DECRYPT_TOKEN_EXPIRED'],
    ['a token from an unknown key', async () => ({ token: await new TokenService(TokenKeyring.fromJwks({ keys: [generateJwk('zz')] }), { ttlSeconds: 3600, binding: 'none' }).mint({ mid: MID, ad: null, cr: null, cmp: null, seq: 1, brk: null }, NOW) }), 'DECRYPT_TOKEN_UNKNOWN_KID'],
    ['a tampered token', async () => {
      const token = await testTokens().mint({ mid: MID, ad: null, cr: null, cmp: null, seq: 1, brk: null }, NOW);
      const parts = token.split('.');
      parts[4] = Buffer.alloc(16, 1).toString('base64url');
      return { token: parts.join('.') };
    }, 'DECRYPT_TOKEN_TAMPERED'],
    ['a session-bound token used from another session', async () => ({
      token: await testTokens('session').mint({ mid: MID, ad: null, cr: null, cmp: null, seq: 1, brk: null, playbackSessionId: 'pbs-A' }, NOW),
      session: 'pbs-B',
    }), 'DECRYPT_SESSION_MISMATCH'],
    ['junk', async () => ({ token: 'not-a-token' }), 'DECRYPT_TOKEN_MALFORMED'],
  ];
  for (const [what, make, code] of cases) {
    it(`dead-letters ${what} as ${code}`, async () => {
      const { token, session } = await make();
      const decrypt = new DecryptProcessor(testTokens(), { cacheEntries: 100 });
      const result = decrypt.process(await pipelineEvent({ token, playbackSessionId: session ?? 'pbs-A' }), stepContext(NOW));
      assert.equal(result.kind, 'fail');
      assert.equal(result.kind === 'fail' && result.error.code, code);
    });
  }
});

describe('resolve', () => {
  it('finds the entry, looking each distinct id up once per batch', async () => {
    const state = new MemoryStateStore();
    const registry = new MetadataRegistry(state);
    const mid = await registry.put(sampleMetadata());
    let lookups = 0;
    const counting = { get: async (m: string) => (lookups++, registry.get(m)) } as unknown as MetadataRegistry;
    const resolve = new ResolveProcessor(counting, { retries: 0, delayMs: 0 });
    const events = await Promise.all([0, 1, 2].map(async (i) => {
      const e = await pipelineEvent({}, i);
      e.claims = { v: 1, mid, ad: null, cr: null, cmp: null, seq: 1, brk: null, iat: 0, exp: 0, sid: null };
      return e;
    }));
    const results = await resolve.processBatch(events);
    assert.deepEqual(results.map((r) => r.kind), ['emit', 'emit', 'emit']);
    assert.equal(events[0]!.metadata!.campaignId, 'cmp-1');
    assert.equal(lookups, 1);
  });

  it('looks a missing entry up again before giving up, and finds one written meanwhile', async () => {
    const state = new MemoryStateStore();
    const registry = new MetadataRegistry(state);
    const later = sampleMetadata({ adId: 'late' });
    const event = await pipelineEvent();
    const { metadataIdOf } = await import('../../../src/ads/registry/ad-metadata.ts');
    event.claims = { v: 1, mid: metadataIdOf(later), ad: null, cr: null, cmp: null, seq: 1, brk: null, iat: 0, exp: 0, sid: null };
    setTimeout(() => void registry.put(later), 30);
    const result = await new ResolveProcessor(new MetadataRegistry(state), { retries: 5, delayMs: 20 }).process(event);
    assert.equal(result.kind, 'emit');
    assert.equal(event.metadata!.adId, 'late');
  });

  it('dead-letters a missing entry as RESOLVE_MISSING_METADATA after its retries', async () => {
    const event = await pipelineEvent();
    event.claims = { v: 1, mid: MID, ad: null, cr: null, cmp: null, seq: 1, brk: null, iat: 0, exp: 0, sid: null };
    const result = await new ResolveProcessor(new MetadataRegistry(new MemoryStateStore()), { retries: 2, delayMs: 1 }).process(event);
    assert.equal(result.kind === 'fail' && result.error.code, 'RESOLVE_MISSING_METADATA');
  });
});
