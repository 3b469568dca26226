/**
 * The README's "For analysts" section cannot rot: every table the migrations create
 * has its own part there, and every ```sql block of it runs, as written, against a
 * migrated warehouse (chDB, ClickHouse 26.x) holding a few rows written by the sinks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnrichedAdEvent } from '../../../schemas/types.ts';
import { ClickHouseSink } from '../../../sinks/clickhouse/sink.ts';
import { utc } from '../../../sinks/clickhouse/rows.ts';
import { PipelineEvent } from '../../../src/pipeline/pipeline-event.ts';
import { TOPICS } from '../../../src/transport/topics.ts';
import { migrate } from '../../../src/warehouse/migrate.ts';
import { MIGRATIONS } from '../../../src/warehouse/migrations/index.ts';
import { openWarehouse } from '../../../src/warehouse/open-warehouse.ts';
import type { Warehouse } from '../../../src/warehouse/warehouse.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = readme.split('\n## For analysts')[1]?.split('\n## ')[0] ?? '';
const queries = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

function played(eventType: EnrichedAdEvent['eventType'], offset: number): EnrichedAdEvent {
  const now = Date.now();
  return {
    eventId: randomUUID(), eventType, playbackSessionId: 'p', adInstanceId: 'ai', occurredAt: now, receivedAt: now, processedAt: now, skewMs: 0,
    adPlayheadMs: null, errorCode: null, metadataId: 'm', adId: 'ad', creativeId: 'cr', campaignId: 'cmp-docs', lineItemId: 'li', advertiserId: 'adv', podSequence: 1,
    pricingModel: 'CPM', priceMicros: 12_500, currency: 'USD', deviceClass: 'ctv', osName: 'Roku', country: 'US', appName: 'app', appVersion: '1', profileHash: 'viewer-hash',
    deviceHash: '', ipHash: '', hashKeyId: 'h1', vendorIds: {}, consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
    live: { liveEventId: 'final', breakId: 'b1' }, source: { topic: TOPICS.raw, partition: 0, offset },
  };
}

describe('README "For analysts" queries', () => {
  let dir: string;
  let warehouse: Warehouse;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quartile-readme-sql-'));
    warehouse = await openWarehouse({ url: '', database: 'quartile', username: '', password: '', requestTimeoutMs: 30_000, chdbPath: dir });
    await migrate(warehouse);
    const outputs = (['impression', 'start', 'complete'] as const).map((type, i) => {
      const event = new PipelineEvent({ record: { topic: TOPICS.raw, partition: 0, offset: String(i), key: null, value: Buffer.alloc(0), timestamp: 0, headers: {} }, originTopic: TOPICS.raw, originPartition: 0, originOffset: String(i) });
      event.enriched = played(type, i);
      event.routes = new Set(type === 'impression' ? ['warehouse', 'billing'] : ['warehouse']);
      return { kind: 'event' as const, event };
    });
    assert.deepEqual(await new ClickHouseSink(warehouse).write(outputs), { status: 'delivered' });
    const impression = outputs[0]!.event.enriched!;
    await warehouse.insert('beacon_deliveries', [
      { event_id: impression.eventId, vendor: 'dv', event_type: 'impression', uri_hash: 'h', outcome: 'delivered', reason: '', http_status: 200, attempts: 1, latency_ms: 12, completed_at: utc(Date.now()) },
    ]);
  });
  after(async () => {
    await warehouse.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes every table the migrations create', () => {
    const tables = MIGRATIONS.flatMap((m) => m.statements('quartile'))
      .map((sql) => /CREATE TABLE IF NOT EXISTS quartile\.(\w+)/.exec(sql)?.[1])
      .filter((name): name is string => name !== undefined);
    assert.ok(tables.length >= 5);
    for (const table of tables) assert.match(section, new RegExp(`^### \`${table}\``, 'm'), `${table} has its own part`);
  });

  it('has example queries that run as written', async () => {
    assert.ok(queries.length >= 10, `found ${queries.length} sql blocks`);
    for (const sql of queries) {
      const rows = await warehouse.query(sql).catch((error: unknown) => assert.fail(`${(error as Error).message}\n--- in the README query:\n${sql}`));
      assert.ok(Array.isArray(rows));
    }
  });

  it('answers with the rows the sinks wrote (spend per campaign and hour)', async () => {
    const perHour = queries.find((q) => q.includes('billable_impressions') && q.includes('toStartOfHour'));
    assert.ok(perHour !== undefined);
    const rows = await warehouse.query<{ campaign_id: string; impressions: string; spend: string | number }>(perHour);
    assert.deepEqual(rows.map((r) => [r.campaign_id, Number(r.impressions), Number(r.spend)]), [['cmp-docs', 1, 0.0125]]);
  });
});
