/**
 * The campaign report as an analyst reads it, on both backend sets: known plays go
 * through the collector and the pipeline into ClickHouse, then `campaignReport()` and
 * `quartile report campaigns` (a real child process) must give the exact figures:
 * impressions and spend billed once despite device retries, unique viewers,
 * completion rate, per-currency spend, and the --since and --live-event filters. On
 * chDB the CLI must say that the engine holds the data directory while it runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { campaignReport, type CampaignReportRow } from '../../../src/warehouse/reports/campaign-report.ts';
import { backendSets, type TestEngine } from '../../helpers/engine.ts';
import { cleanEnv, CLI, REPO_ROOT } from '../../helpers/engine-process.ts';
import { adFor, playEvent, sendEvents, startPipelineEngine } from '../../helpers/pipeline.ts';
import { waitFor } from '../../helpers/wait.ts';

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `quartile ARGS` as an operator would, with only `env` for QUARTILE_* variables. */
function quartile(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const base = cleanEnv();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...base, QUARTILE_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

for (const set of backendSets()) {
  describe(`campaign report on ${set.name} backends`, { skip: set.skip, timeout: 240_000 }, () => {
    let t: TestEngine;
    let engineRunning = false;
    const usd = `cmp-usd-${randomUUID().slice(0, 8)}`;
    const eur = `cmp-eur-${randomUUID().slice(0, 8)}`;
    const live = `final-${randomUUID().slice(0, 8)}`;
    const startedAt = Date.now();

    const expected: CampaignReportRow[] = [
      // 6 impressions by 4 viewers, 6 starts, 4 completes at 12.50 USD CPM.
      { campaignId: usd, currency: 'USD', impressions: 6, uniqueViewers: 4, starts: 6, completes: 4, completionRate: 4 / 6, spend: '0.075' },
      // 3 impressions by 3 viewers of one live event, 2 starts, 2 completes at 4 EUR CPM.
      { campaignId: eur, currency: 'EUR', impressions: 3, uniqueViewers: 3, starts: 2, completes: 2, completionRate: 1, spend: '0.012' },
    ].sort((a, b) => a.campaignId.localeCompare(b.campaignId));
    const ours = (rows: readonly CampaignReportRow[]): CampaignReportRow[] => rows.filter((r) => r.campaignId === usd || r.campaignId === eur);

    before(async () => {
      t = await startPipelineEngine(set, { pixels: { enabled: false } });
      engineRunning = true;
      const a = await adFor(t, { campaignId: usd, pricing: { model: 'CPM', currency: 'USD', value: 12.5 } });
      const b = await adFor(t, { campaignId: eur, pricing: { model: 'CPM', currency: 'EUR', value: 4 } });
      const play = (token: string, viewer: string, types: ReadonlyArray<'impression' | 'start' | 'complete'>, extra: Record<string, unknown> = {}): Array<Record<string, unknown>> => {
        const session = `s-${randomUUID()}`;
        const device = { deviceId: `device-${viewer}`, profileId: `profile-${viewer}`, userAgent: 'Roku/DVP-12.0 (12.0.0.4182)' };
        return types.map((type) => playEvent(token, session, `${session}-1`, type, { device, ...extra }));
      };
      const full = ['impression', 'start', 'complete'] as const;
      const events = [
        // v1 and v2 see the USD ad twice; v1 and v3 each leave one play before its end.
        ...play(a.token, 'v1', full), ...play(a.token, 'v1', ['impression', 'start']),
        ...play(a.token, 'v2', full), ...play(a.token, 'v2', full),
        ...play(a.token, 'v3', ['impression', 'start']),
        ...play(a.token, 'v4', full),
        ...play(b.token, 'v5', full, { live: { liveEventId: live, breakId: 'b1' } }),
        ...play(b.token, 'v6', full, { live: { liveEventId: live, breakId: 'b1' } }),
        ...play(b.token, 'v7', ['impression'], { live: { liveEventId: live, breakId: 'b1' } }),
      ];
      await sendEvents(t, events);
      await sendEvents(t, events.slice(0, 4)); // a device retrying: the pipeline drops the duplicates
      const db = t.engine.context.backends.warehouse.database;
      await waitFor('every play in ClickHouse', async () => {
        const [row] = await t.engine.context.backends.warehouse.query<{ billed: string; plays: string }>(
          `SELECT (SELECT count() FROM ${db}.billable_impressions FINAL WHERE campaign_id IN ('${usd}', '${eur}')) AS billed,
                  (SELECT count() FROM ${db}.ad_events FINAL WHERE campaign_id IN ('${usd}', '${eur}') AND event_type IN ('start', 'complete')) AS plays`,
        );
        return Number(row!.billed) === 9 && Number(row!.plays) === 14;
      }, 90_000, 250);
    });
    after(async () => {
      if (engineRunning) await t.engine.stop();
      rmSync(t.config.dataDir, { recursive: true, force: true });
    });

    it('gives exact impressions, viewers, completion rate and spend per campaign and currency', async () => {
      const warehouse = t.engine.context.backends.warehouse;
      assert.deepEqual(ours(await campaignReport(warehouse)), expected);
      assert.deepEqual(ours(await campaignReport(warehouse, { since: startedAt - 60_000 })), expected);
      assert.deepEqual(ours(await campaignReport(warehouse, { since: Date.now() + 60_000 })), [], 'nothing occurred in the future');
      assert.deepEqual(await campaignReport(warehouse, { liveEventId: live }), expected.filter((r) => r.campaignId === eur));
    });

    it('prints the same figures from the command line once the engine is stopped', async () => {
      const env = { ...set.env, QUARTILE_DATA_DIR: t.config.dataDir };
      const locked = await quartile(['report', 'campaigns'], env);
      assert.equal(locked.code, 1);
      assert.match(locked.stderr, /WAREHOUSE_DATA_DIR_LOCKED: .*only while the engine is not running/);

      await t.engine.stop();
      engineRunning = false;
      const json = await quartile(['report', 'campaigns', '--json', '--since', '1h'], env);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as { since: string; liveEventId: null; campaigns: CampaignReportRow[] };
      assert.deepEqual(ours(report.campaigns), expected);
      assert.equal(report.liveEventId, null);
      assert.ok(Math.abs(Date.parse(report.since) - (Date.now() - 3_600_000)) < 60_000, 'since is an hour ago');

      const table = await quartile(['report', 'campaigns', '--live-event', live], env);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trimEnd().split('\n');
      assert.deepEqual(lines.map((l) => l.split(/\s{2,}/)), [
        ['campaign', 'impressions', 'unique viewers', 'starts', 'completes', 'completion', 'spend'],
        [eur, '3', '3', '2', '2', '100.0%', '0.012 EUR'],
      ]);
      assert.equal(new Set(lines.map((l) => l.length)).size, 1, 'columns line up');

      const bad = await quartile(['report', 'campaigns', '--since', 'yesterday'], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /REPORT_BAD_SINCE: --since "yesterday" is not a time: use ISO 8601 .* or an age such as 30m, 2h or 7d/);
    });
  });
}
