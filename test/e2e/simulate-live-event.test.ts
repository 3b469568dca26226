/**
 * `quartile simulate live-event` end to end, on both backend sets: a herd, devices that
 * skip, leave, retry, arrive late and send bad events, vendors, consent — and a
 * reconciliation that must come out ok with every kind of figure present. Then the
 * CLI against a running engine (--engine), which reads through the operator API.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SIMULATION, type SimulationOptions } from '../../src/simulate/options.ts';
import type { Observation } from '../../src/simulate/observation.ts';
import { runSimulation } from '../../src/simulate/run-simulation.ts';
import { simulationEngineConfig } from '../../src/simulate/world.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { backendSets, startTestEngine, type TestEngine } from '../helpers/engine.ts';
import { CLI, REPO_ROOT, cleanEnv, freePort } from '../helpers/engine-process.ts';

const OPTIONS: SimulationOptions = {
  ...DEFAULT_SIMULATION,
  viewers: 80,
  breaks: 2,
  podSize: 3,
  duplicateRate: 0.1,
  badRate: 0.1,
  lateRate: 0.1,
  skipRate: 0.2,
  dropOffRate: 0.1,
  seed: 5,
  // Short ads: a viewer who leaves closes its session after the ad's length plus the gap.
  adDurationSec: 8,
  speed: 20,
  herdJitterMs: 1000,
  cueLeadMs: 2000,
  clients: 4,
};

const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

for (const set of backendSets()) {
  describe(`a simulated live event on ${set.name} backends`, { skip: set.skip, timeout: 300_000 }, () => {
    it('bills, sessionizes, beacons and dead-letters exactly what the devices did', async () => {
      const outcome = await runSimulation(OPTIONS, { kind: 'in-process', logger: silentLogger(), env: set.env }, { drainTimeoutMs: 120_000, stallMs: 60_000 });
      try {
        const { report } = outcome.drain;
        assert.equal(report.ok, true, JSON.stringify(report, null, 1));
        const { summary } = outcome;
        assert.equal(summary.decisions, OPTIONS.viewers * OPTIONS.breaks);
        assert.ok(summary.duplicates > 0 && summary.late > 0 && summary.bad > 0, JSON.stringify(summary));
        // Every behaviour shows up in what the engine produced, not only in what was sent.
        assert.ok(report.observed.billable > 300, `billed ${report.observed.billable}`);
        assert.ok(report.observed.sessions.skipped > 0 && report.observed.sessions.completed > 0);
        assert.ok(report.observed.sessions.total > report.observed.sessions.completed + report.observed.sessions.skipped, 'drop-offs close by inactivity');
        assert.ok(sum(report.expected.suppressed) > 0, 'consent suppresses some beacons');
        assert.equal(sum(report.observed.beacons), sum(report.expected.beacons));
        assert.deepEqual(Object.keys(report.observed.badEvents).sort(), ['DECRYPT_TOKEN_TAMPERED', 'EVENT_UNKNOWN_EVENT_TYPE']);
        assert.equal(report.observed.billableRowsUnmerged >= report.observed.billable, true);
        // The campaign report of the live event adds up to what was billed.
        const campaigns = outcome.drain.observation.campaigns;
        assert.equal(campaigns.length, 3);
        assert.equal(campaigns.reduce((n, c) => n + c.impressions, 0), report.observed.billable);
      } finally {
        await outcome.engine?.stop();
      }
    });
  });
}

const TRUTH = join(tmpdir(), `quartile-sim-truth-${process.pid}.json`);

describe('quartile simulate live-event --engine', { timeout: 300_000 }, () => {
  let t: TestEngine | undefined;
  after(async () => t?.stop());

  it('plays against a running engine and prints the reconciliation as its last line', async () => {
    const adServerPort = await freePort();
    const token = 'simulation-test-admin-token';
    t = await startTestEngine(backendSets()[0]!, { ...simulationEngineConfig(`http://127.0.0.1:${adServerPort}/vast?brk=[QUARTILE_BREAK_ID]`), admin: { token } });
    const child = spawn(process.execPath, [CLI, 'simulate', 'live-event', '--engine', t.url, '--ad-server-port', String(adServerPort), '--viewers', '30', '--ad-duration', '8', '--breaks', '1', '--speed', '20', '--seed', '9', '--json', '--truth', TRUTH], {
      cwd: REPO_ROOT,
      env: { ...cleanEnv(), QUARTILE_ADMIN_TOKEN: token, QUARTILE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines.at(-1)!) as { ok: boolean; expected: { billable: number }; observed: { billable: number } };
    assert.equal(code, 0, stderr);
    assert.equal(report.ok, true);
    assert.ok(report.expected.billable > 0 && report.observed.billable === report.expected.billable);
    const summary = JSON.parse(lines.at(-2)!) as { simulation: { viewers: number; decisions: number } };
    assert.equal(summary.simulation.decisions, 30);

    // The ground truth file lets `quartile reconcile` check the engine again later.
    const again = spawn(process.execPath, [CLI, 'reconcile', '--truth', TRUTH, '--engine', t.url, '--json'], {
      cwd: REPO_ROOT,
      env: { ...cleanEnv(), QUARTILE_ADMIN_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    again.stdout.on('data', (d: Buffer) => (out += d.toString()));
    assert.equal(await new Promise((resolve) => again.on('exit', resolve)), 0);
    assert.equal((JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean }).ok, true);
  });

  it('answers the observation at each level: rows as written, exact counts, and everything', async () => {
    assert.ok(t !== undefined);
    const truth = JSON.parse(readFileSync(TRUTH, 'utf8')) as { liveEventId: string };
    const observe = async (query: string): Promise<Response> =>
      fetch(`${t!.url}/v1/admin/live-events/${truth.liveEventId}/observation?since=0${query}`, {
        headers: { authorization: 'Bearer simulation-test-admin-token' },
      });
    const read = async (level: string) => (await (await observe(`&level=${level}`)).json()) as Observation;
    const [progress, counts, detailed, legacy] = [await read('progress'), await read('counts'), await read('detailed'), (await (await observe('&detailed=1')).json()) as Observation];
    assert.deepEqual([progress.level, counts.level, detailed.level, legacy.level], ['progress', 'counts', 'detailed', 'detailed']);
    assert.ok(counts.billableCount > 0);
    // Rows as written are never fewer than the merged count.
    assert.ok(progress.billableCount >= counts.billableCount && progress.sessions.total >= counts.sessions.total);
    assert.equal(detailed.billable.length, counts.billableCount);
    assert.deepEqual([progress.billable, counts.billable, progress.beaconProblems], [[], [], []]);
    assert.ok(detailed.campaigns.length > 0 && counts.campaigns.length === 0);
    const refused = await observe('&level=everything');
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { message: string }).message, /level=progress\|counts\|detailed/);
  });

  it('refuses the operator API without the admin token', async () => {
    assert.ok(t !== undefined);
    const response = await fetch(`${t.url}/v1/admin/live-events/sim-1-x/observation?since=0`);
    assert.equal(response.status, 401);
  });
});
