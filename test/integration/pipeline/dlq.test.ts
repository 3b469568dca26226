/**
 * Dead letters as operators use them, on both backends: summarised by code, and
 * replayed once the cause is fixed (here: the registry entry was missing and then
 * written). The replayed event flows through; dedupe treats it as a replay.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { TOPICS } from '../../../src/transport/topics.ts';
import { MetadataRegistry } from '../../../src/ads/registry/metadata-registry.ts';
import { metadataIdOf } from '../../../src/ads/registry/ad-metadata.ts';
import { backendSets, keyedBy, readTopic, type TestEngine } from '../../helpers/engine.ts';
import { playEvent, sendEvents, startPipelineEngine, testTokens } from '../../helpers/pipeline.ts';
import { sampleMetadata } from '../../helpers/metadata.ts';
import { cleanEnv, CLI } from '../../helpers/engine-process.ts';
import { request } from 'undici';

const ADMIN = 'admin-token-for-tests-0123456789';

for (const set of backendSets()) {
  describe(`dead letters on ${set.name} backends`, { skip: set.skip, timeout: 180_000 }, () => {
    let t: TestEngine;
    before(async () => {
      t = await startPipelineEngine(set, { admin: { token: ADMIN }, pipeline: { resolveRetries: 0 } });
    });
    after(() => t.stop());

    async function admin(method: 'GET' | 'POST', path: string, body?: unknown, token = ADMIN): Promise<{ status: number; body: Record<string, unknown> }> {
      const response = await request(`${t.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
    }

    it('refuses operator actions without the admin token', async () => {
      assert.equal((await admin('GET', '/v1/admin/dlq', undefined, 'wrong')).status, 401);
      assert.equal((await admin('POST', '/v1/admin/dlq/replay', { code: 'X' }, '')).status, 401);
    });

    it('summarises by code, and replays a code once its cause is fixed', async () => {
      const metadata = sampleMetadata({ campaignId: `late-${randomUUID().slice(0, 8)}` });
      const mid = metadataIdOf(metadata);
      const token = await testTokens().mint({ mid, ad: 'a', cr: 'c', cmp: metadata.campaignId, seq: 1, brk: null });
      const session = `s-${randomUUID()}`;
      const event = playEvent(token, session, `${session}-1`, 'impression');
      await sendEvents(t, [event]); // the registry entry does not exist yet
      await readTopic(t.engine.context.backends.transport, TOPICS.deadLetter, 1, (r) => r.value!.includes(event['eventId'] as string));

      const inspected = await admin('GET', '/v1/admin/dlq');
      assert.equal(inspected.status, 200);
      const codes = inspected.body['codes'] as Array<{ code: string; count: number; stages: string[] }>;
      const missing = codes.find((c) => c.code === 'RESOLVE_MISSING_METADATA')!;
      assert.ok(missing.count >= 1);
      assert.deepEqual(missing.stages, ['resolve']);

      await new MetadataRegistry(t.engine.context.backends.state).put(metadata); // the cause is fixed
      const replay = await admin('POST', '/v1/admin/dlq/replay', { code: 'RESOLVE_MISSING_METADATA' });
      assert.equal(replay.status, 200);
      assert.ok((replay.body['replayed'] as number) >= 1);

      const enriched = await readTopic(t.engine.context.backends.transport, TOPICS.enriched, 1, keyedBy(session));
      const decoded = await t.engine.context.codec.decode(TOPICS.enriched, enriched[0]!.value!);
      assert.equal(decoded.eventId, event['eventId']);
      assert.equal(decoded.campaignId, metadata.campaignId);

      // Running the same replay again sends nothing new.
      const again = await admin('POST', '/v1/admin/dlq/replay', { code: 'RESOLVE_MISSING_METADATA' });
      assert.equal(again.body['replayed'], 0);
    });

    if (set.name === 'real') {
      it('works from the command line straight against Kafka', () => {
        const base = cleanEnv();
        const result = spawnSync(process.execPath, [CLI, 'dlq', 'inspect', '--json'], { encoding: 'utf8', env: { ...base, ...set.env }, timeout: 60_000 });
        assert.equal(result.status, 0, result.stderr);
        const codes = JSON.parse(result.stdout) as Array<{ code: string }>;
        assert.ok(codes.some((c) => c.code === 'RESOLVE_MISSING_METADATA'));
      });
    }
  });
}
