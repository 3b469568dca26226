/**
 * Each engine role serves its own Control Room showing what it runs: a collector has
 * no live panel, beacons, pipeline or warehouse; an Ads Manager has the live panel;
 * a pipeline has beacons, its state and billing. Also: the page at a configured
 * path, the stream as server-sent events, and the page switched off.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { ControlRoomSnapshot } from '../../../src/control-room/snapshot.ts';
import type { Role } from '../../../src/core/roles.ts';
import { backendSets, startTestEngine } from '../../helpers/engine.ts';
import { uniqueName, waitFor } from '../../helpers/wait.ts';

async function snapshotOf(url: string): Promise<ControlRoomSnapshot> {
  const response = await request(`${url}/control-room/snapshot`);
  assert.equal(response.statusCode, 200);
  return (await response.body.json()) as ControlRoomSnapshot;
}

for (const set of backendSets()) {
  describe(`the Control Room of each role on ${set.name} backends`, { skip: set.skip, timeout: 180_000 }, () => {
    const roles: Array<[Role, (s: ControlRoomSnapshot) => void]> = [
      ['collector', (s) => {
        assert.deepEqual(s.runs, { collector: true, adsManager: false, pipeline: false });
        assert.equal(s.live, null);
        assert.equal(s.beacons, null);
        assert.equal(s.pipeline, null);
        assert.equal(s.billing.status, 'unavailable');
        assert.match((s.billing as { message: string }).message, /collector process has no warehouse/);
      }],
      ['ads-manager', (s) => {
        assert.deepEqual(s.runs, { collector: false, adsManager: true, pipeline: false });
        assert.deepEqual(s.live?.breaks, []);
        assert.equal(s.beacons, null);
        assert.equal(s.billing.status, 'unavailable');
      }],
      ['pipeline', (s) => {
        assert.deepEqual(s.runs, { collector: false, adsManager: false, pipeline: true });
        assert.equal(s.live, null);
        assert.deepEqual(s.beacons, []);
        assert.deepEqual(s.pipeline, { state: 'running' });
        assert.notEqual(s.billing.status, 'unavailable');
      }],
    ];
    for (const [role, check] of roles) {
      it(`a ${role} process shows what it runs`, async () => {
        const t = await startTestEngine(set, { pipeline: { groupId: uniqueName('pipeline') }, live: { cueGroupId: uniqueName('cues') } }, { role });
        try {
          check(await snapshotOf(t.url));
        } finally {
          await t.stop();
        }
      });
    }

    it('serves the page at controlRoom.path and streams snapshots as server-sent events', async () => {
      const t = await startTestEngine(set, { controlRoom: { path: '/ops', intervalMs: 200 } }, { role: 'collector' });
      try {
        const page = await request(`${t.url}/ops`);
        assert.equal(page.statusCode, 200);
        assert.match(String(page.headers['content-type']), /text\/html/);
        assert.match(await page.body.text(), /<script type="module" src="\/control-room\/assets\/app\.js">/);
        const root = await request(`${t.url}/`);
        assert.equal(root.statusCode, 404);
        await root.body.dump();

        const stream = await request(`${t.url}/control-room/stream`);
        assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
        let text = '';
        let ended = false;
        stream.body.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.body.on('end', () => (ended = true));
        await waitFor('two snapshots on the stream', () => (text.match(/^event: snapshot$/gm) ?? []).length >= 2, 10_000);
        const first = /^data: (.*)$/m.exec(text)![1]!;
        assert.equal((JSON.parse(first) as ControlRoomSnapshot).role, 'collector');
        // A page still open must not keep the engine from stopping: its stream is ended.
        await t.stop();
        await waitFor('the stream ended', () => ended, 5_000);
      } catch (error) {
        await t.stop();
        throw error;
      }
    });

    it('is not served when controlRoom.enabled is off', async () => {
      const t = await startTestEngine(set, { controlRoom: { enabled: false } }, { role: 'collector' });
      try {
        for (const path of ['/', '/control-room/snapshot', '/control-room/assets/app.js']) {
          const response = await request(`${t.url}${path}`);
          assert.equal(response.statusCode, 404, path);
          await response.body.dump();
        }
      } finally {
        await t.stop();
      }
    });
  });
}
