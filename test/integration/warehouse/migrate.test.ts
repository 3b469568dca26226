/**
 * `quartile migrate` on chDB (ClickHouse 26.x in-process): the core tables appear,
 * with the engines and types analysts rely on, and a second run changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWarehouse } from '../../../src/warehouse/open-warehouse.ts';
import { migrate } from '../../../src/warehouse/migrate.ts';
import type { Warehouse } from '../../../src/warehouse/warehouse.ts';

describe('migrations on chDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quartile-migrate-'));
  let warehouse: Warehouse;
  before(async () => {
    warehouse = await openWarehouse({ url: '', database: 'quartile_m', username: 'default', password: '', requestTimeoutMs: 30_000, chdbPath: dir });
  });
  after(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the core tables once and is safe to run again', async () => {
    const first = await migrate(warehouse);
    assert.deepEqual(first.applied.map((m) => m.version), [1]);
    const second = await migrate(warehouse);
    assert.deepEqual(second, { applied: [], alreadyApplied: 1, changed: [] });

    const tables = await warehouse.query<{ name: string; engine: string }>(
      `SELECT name, engine FROM system.tables WHERE database = 'quartile_m' ORDER BY name`,
    );
    assert.deepEqual(
      Object.fromEntries(tables.map((t) => [t.name, t.engine])),
      {
        ad_events: 'ReplacingMergeTree',
        ad_sessions: 'ReplacingMergeTree',
        beacon_deliveries: 'ReplacingMergeTree',
        billable_impressions: 'ReplacingMergeTree',
        campaign_hourly: 'AggregatingMergeTree',
        campaign_hourly_mv: 'MaterializedView',
        schema_migrations: 'MergeTree',
      },
    );
  });

  it('feeds campaign_hourly from ad_events through the materialized view', async () => {
    const base = { occurred_at: '2026-11-25 20:00:01.000', received_at: '2026-11-25 20:00:01.500', campaign_id: 'c1', advertiser_id: 'a1', currency: 'USD' };
    await warehouse.insert('ad_events', [
      { ...base, event_id: '00000000-0000-4000-8000-000000000001', event_type: 'impression', profile_hash: 'p1', price: '0.012500' },
      { ...base, event_id: '00000000-0000-4000-8000-000000000002', event_type: 'impression', profile_hash: 'p2', price: '0.012500' },
      { ...base, event_id: '00000000-0000-4000-8000-000000000003', event_type: 'complete', profile_hash: 'p1', price: '0' },
    ]);
    const [row] = await warehouse.query<{ impressions: string; uniques: string; completes: string; spend: string }>(
      `SELECT sum(impressions) AS impressions, uniqMerge(uniques) AS uniques, sum(completes) AS completes, toString(sum(spend)) AS spend
       FROM quartile_m.campaign_hourly WHERE campaign_id = 'c1'`,
    );
    assert.deepEqual(
      { impressions: Number(row!.impressions), uniques: Number(row!.uniques), completes: Number(row!.completes), spend: row!.spend },
      { impressions: 2, uniques: 2, completes: 1, spend: '0.025' },
    );
  });
});
