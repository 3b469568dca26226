/**
 * The ClickHouse sink's rows as TabSeparated lines: the columns of each table in the
 * migration's order, strings escaped, nulls as \N, money exact, times in UTC with
 * milliseconds (formatted seconds reused, also across second boundaries); and the
 * sink's halving of a refused insert down to the rows ClickHouse refuses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AdSession, EnrichedAdEvent } from '../../../schemas/types.ts';
import { AD_EVENTS, AD_SESSIONS, BILLABLE_IMPRESSIONS, decimalFromMicros, utc } from '../../../sinks/clickhouse/rows.ts';
import { ClickHouseSink } from '../../../sinks/clickhouse/sink.ts';
import { CLICKHOUSE_SINK_DEFAULTS } from '../../../sinks/clickhouse/config.ts';
import { coreTables } from '../../../src/warehouse/migrations/0001-core-tables.ts';
import { PipelineEvent, type PipelineOutput } from '../../../src/pipeline/pipeline-event.ts';
import type { InsertOptions, Warehouse } from '../../../src/warehouse/warehouse.ts';

/** The column names of `table` in the core-tables migration, in order. */
function migrationColumns(table: string): string[] {
  const statement = coreTables.statements('db').find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS db.${table} (`))!;
  const body = statement.slice(statement.indexOf('(') + 1, statement.indexOf(') ENGINE'));
  return body.split('\n').map((line) => line.trim()).filter((line) => line !== '').map((line) => line.split(/\s+/)[0]!);
}

/** What a TabSeparated line reads back as: fields, unescaped. */
function fields(line: string): string[] {
  assert.ok(line.endsWith('\n'));
  return line.slice(0, -1).split('\t');
}

function event(overrides: Partial<EnrichedAdEvent> = {}): EnrichedAdEvent {
  return {
    eventId: '6f1c0e4e-6a43-4f3f-9d0c-3b0b8f0e2a11', eventType: 'impression', playbackSessionId: 'p', adInstanceId: 'a', occurredAt: 1_700_000_000_123, receivedAt: 1_700_000_001_005,
    processedAt: 1_700_000_002_050, skewMs: -882, adPlayheadMs: null, errorCode: 405, metadataId: 'm', adId: 'ad', creativeId: 'cr', campaignId: 'cmp', lineItemId: 'li',
    advertiserId: 'adv', podSequence: 2, pricingModel: 'CPM', priceMicros: 12_500, currency: 'USD', deviceClass: 'ctv', osName: 'Roku', country: 'US', appName: 'app',
    appVersion: '1.2', profileHash: 'ph', deviceHash: '', ipHash: '', hashKeyId: 'h1', vendorIds: {},
    consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: true }, live: { liveEventId: 'final', breakId: null },
    source: { topic: 'ads.events.raw', partition: 3, offset: 42 }, ...overrides,
  };
}

describe('ClickHouse rows as TabSeparated', () => {
  it('lists each table\'s columns in the migration\'s order', () => {
    assert.deepEqual(AD_EVENTS.columns, migrationColumns('ad_events'));
    assert.deepEqual(BILLABLE_IMPRESSIONS.columns, migrationColumns('billable_impressions'));
    assert.deepEqual(AD_SESSIONS.columns, migrationColumns('ad_sessions'));
  });

  it('writes an ad event with one field per column: nulls as \\N, flags as 0/1, money exact, times in UTC', () => {
    const f = fields(AD_EVENTS.line(event()));
    assert.equal(f.length, AD_EVENTS.columns.length);
    assert.deepEqual(
      Object.fromEntries(AD_EVENTS.columns.map((c, i) => [c, f[i]])),
      {
        event_id: '6f1c0e4e-6a43-4f3f-9d0c-3b0b8f0e2a11', event_type: 'impression', occurred_at: '2023-11-14 22:13:20.123', received_at: '2023-11-14 22:13:21.005',
        processed_at: '2023-11-14 22:13:22.050', playback_session_id: 'p', ad_instance_id: 'a', metadata_id: 'm', ad_id: 'ad', creative_id: 'cr', campaign_id: 'cmp',
        line_item_id: 'li', advertiser_id: 'adv', live_event_id: 'final', break_id: '', pod_sequence: '2', ad_playhead_ms: '\\N', error_code: '405', country: 'US',
        device_class: 'ctv', os_name: 'Roku', app_name: 'app', app_version: '1.2', profile_hash: 'ph', hash_key_id: 'h1', limit_ad_tracking: '1', price: '0.012500',
        currency: 'USD', skew_ms: '-882', source_partition: '3', source_offset: '42',
      },
    );
  });

  it('escapes tab, line feed, carriage return, backslash and NUL in strings, so a value stays one field', () => {
    const line = AD_EVENTS.line(event({ appName: 'a\tb\nc\rd\\e\0f', osName: 'Ro\\ku' }));
    const f = fields(line);
    assert.equal(f.length, AD_EVENTS.columns.length);
    assert.equal(f[AD_EVENTS.columns.indexOf('app_name')], 'a\\tb\\nc\\rd\\\\e\\0f');
    assert.equal(f[AD_EVENTS.columns.indexOf('os_name')], 'Ro\\\\ku');
  });

  it('writes billable impressions and sessions with one field per column', () => {
    const b = fields(BILLABLE_IMPRESSIONS.line(event({ live: null })));
    assert.equal(b.length, BILLABLE_IMPRESSIONS.columns.length);
    assert.deepEqual([b[9], b[10], b[14], b[15]], ['', '', 'CPM', '0.012500']);
    const session: AdSession = {
      adInstanceId: 'ai', version: 2, playbackSessionId: 'p', metadataId: 'm', campaignId: 'c', creativeId: 'cr', profileHash: 'ph', live: { liveEventId: 'le', breakId: 'b1' },
      started: true, quartilesReached: 4, completed: true, skipped: false, clicks: 1, errors: 0, watchedMs: 15_000, viewability: 'viewable',
      firstEventAt: 0, lastEventAt: 15_001, closeReason: 'complete', eventCount: 6, closedAt: 20_000,
    };
    assert.deepEqual(fields(AD_SESSIONS.line(session)), [
      'ai', '2', 'p', 'm', 'c', 'cr', 'le', 'b1', 'ph', '1', '4', '1', '0', '1', '0', '15000', 'viewable', '1970-01-01 00:00:00.000', '1970-01-01 00:00:15.001', 'complete',
    ]);
  });

  it('keeps Decimal money exact from integer micros', () => {
    const cases: Array<[number, string]> = [
      [0, '0.000000'],
      [1, '0.000001'],
      [12_500, '0.012500'],
      [12_500_000, '12.500000'],
      [-1, '-0.000001'],
      [-12_345_678, '-12.345678'],
      [Number.MAX_SAFE_INTEGER, '9007199254.740991'],
    ];
    for (const [micros, text] of cases) assert.equal(decimalFromMicros(micros), text, `${micros} micros`);
  });

  it('formats times as YYYY-MM-DD hh:mm:ss.sss in UTC, padding the milliseconds', () => {
    const cases: Array<[number, string]> = [
      [0, '1970-01-01 00:00:00.000'],
      [7, '1970-01-01 00:00:00.007'],
      [70, '1970-01-01 00:00:00.070'],
      [1_700_000_000_999, '2023-11-14 22:13:20.999'],
      [1_700_000_001_000, '2023-11-14 22:13:21.000'],
      [Date.UTC(2024, 1, 29, 23, 59, 59, 999), '2024-02-29 23:59:59.999'],
      [Date.UTC(2024, 2, 1), '2024-03-01 00:00:00.000'],
      [-1, '1969-12-31 23:59:59.999'],
    ];
    for (const [ms, text] of cases) assert.equal(utc(ms), text, `${ms} ms`);
    assert.throws(() => utc(Number.NaN), RangeError);
  });

  it('reuses a formatted second only for that second: across boundaries and seconds sharing a cache slot', () => {
    const reference = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    const base = Date.UTC(2026, 0, 31, 23, 59, 58, 0);
    // Millisecond by millisecond across two second boundaries (and a day and month).
    for (let ms = base + 990; ms <= base + 2010; ms++) assert.equal(utc(ms), reference(ms));
    // Seconds 8 apart share a slot; alternating between them must not return the other's text.
    for (let i = 0; i < 50; i++) {
      const ms = base + (i % 2 === 0 ? 0 : 8_000) + i;
      assert.equal(utc(ms), reference(ms));
    }
    // A deterministic spread of times, in no order.
    let x = 12345;
    for (let i = 0; i < 2_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const ms = base - 86_400_000 + (x % (3 * 86_400_000));
      assert.equal(utc(ms), reference(ms));
    }
  });
});

/** A warehouse that records TabSeparated inserts and refuses those holding a poisoned line. */
function recordingWarehouse(): Warehouse & { inserts: Array<{ table: string; columns: readonly string[]; lines: string; token: string | undefined }> } {
  const inserts: Array<{ table: string; columns: readonly string[]; lines: string; token: string | undefined }> = [];
  const unused = (): never => {
    throw new Error('not used by the sink');
  };
  return {
    kind: 'chdb',
    database: 'db',
    inserts,
    query: unused,
    command: unused,
    insert: unused,
    ping: async () => {},
    close: async () => {},
    async insertTabSeparated(table: string, columns: readonly string[], lines: string, options?: InsertOptions) {
      if (lines.includes('poison')) throw Object.assign(new Error('Violated constraint'), { type: 'VIOLATED_CONSTRAINT' });
      inserts.push({ table, columns, lines, token: options?.deduplicationToken });
    },
  };
}

function output(e: EnrichedAdEvent, routes: ReadonlyArray<'warehouse' | 'billing'>): PipelineOutput {
  const offset = String(e.source.offset);
  const pipelineEvent = new PipelineEvent({
    record: { topic: e.source.topic, partition: e.source.partition, offset, key: null, value: Buffer.alloc(0), timestamp: 0, headers: {} },
    originTopic: e.source.topic,
    originPartition: e.source.partition,
    originOffset: offset,
  });
  pipelineEvent.enriched = e;
  pipelineEvent.routes = new Set(routes);
  return { kind: 'event', event: pipelineEvent };
}

describe('ClickHouse sink on TabSeparated lines', () => {
  const config = { ...CLICKHOUSE_SINK_DEFAULTS, batch: { ...CLICKHOUSE_SINK_DEFAULTS.batch, lingerMs: 0 } };

  it('inserts each table\'s lines with its columns and a deduplication token', async () => {
    const warehouse = recordingWarehouse();
    const sink = new ClickHouseSink(warehouse, config);
    const batch = [output(event({ source: { topic: 'raw', partition: 1, offset: 1 } }), ['warehouse', 'billing']), output(event({ source: { topic: 'raw', partition: 1, offset: 2 } }), ['warehouse'])];
    assert.deepEqual(await sink.write(batch), { status: 'delivered' });
    const events = warehouse.inserts.find((i) => i.table === 'ad_events')!;
    const billing = warehouse.inserts.find((i) => i.table === 'billable_impressions')!;
    assert.deepEqual(events.columns, AD_EVENTS.columns);
    assert.equal(events.lines.split('\n').length - 1, 2);
    assert.deepEqual(billing.columns, BILLABLE_IMPRESSIONS.columns);
    assert.equal(billing.lines.split('\n').length - 1, 1);
    assert.match(events.token!, /^ad_events:/);
  });

  it('halves a refused insert until only the refused rows are left, and reports those by their place in the batch', async () => {
    const warehouse = recordingWarehouse();
    const sink = new ClickHouseSink(warehouse, config);
    const batch = Array.from({ length: 7 }, (_, i) => output(event({ adId: i === 2 || i === 5 ? 'poison' : `ad${i}`, source: { topic: 'raw', partition: 0, offset: i } }), ['warehouse']));
    const outcome = await sink.write(batch);
    assert.equal(outcome.status, 'partial');
    const failed = outcome.status === 'partial' ? outcome.failed : new Map();
    assert.deepEqual([...failed.keys()].sort(), [2, 5]);
    for (const error of failed.values()) assert.equal(error.code, 'SINK_CLICKHOUSE_ROW_REJECTED');
    const written = warehouse.inserts.flatMap((i) => i.lines.split('\n').filter((l) => l !== '')).map((l) => l.split('\t')[AD_EVENTS.columns.indexOf('ad_id')]);
    assert.deepEqual(written.sort(), ['ad0', 'ad1', 'ad3', 'ad4', 'ad6']);
  });
});
