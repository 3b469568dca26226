/**
 * `npm run bench -- warehouse [--serve] [--writers N] [--writes N] [--batch N]
 * [--think-ms N] [--linger-ms N] [--runs N]`: the CPU the ClickHouse sink costs per row during a
 * surge, Node's and the warehouse's, with the sink as shipped (its defaults).
 *
 * `--writers` pipeline partitions (6) each write `--writes` batches (30) of `--batch`
 * impressions (500; each is an `ad_events` and a `billable_impressions` row) through
 * one `ClickHouseSink`, and between two writes do other work for 0 to `--think-ms`
 * ms (40, from a fixed seed): writes arrive spread out, as the partitions' batches do.
 *
 * The warehouse is chDB in this process, or with `--serve` a `quartile warehouse
 * serve` child process (chDB behind ClickHouse's HTTP interface, as the processes of
 * one machine share it): then `warehouseUsPerRow` is that process's CPU (all its
 * threads, from /proc) per row and `nodeUsPerRow` this process's. In this process,
 * `warehouseUsPerRow` is the whole process (chDB and Node together). Each run counts
 * 2 s after its last write, for the merges its parts cause. `inserts` is the inserts
 * the sink made (each a part per table). `--linger-ms` overrides the sink's pacing
 * (`clickhouse.batchLingerMs`). The median of `--runs` runs (3) after a
 * warm-up run is reported.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load.ts';
import { openBackends } from '../src/core/backends.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { TOPICS } from '../src/transport/topics.ts';
import { migrate } from '../src/warehouse/migrate.ts';
import type { InsertOptions, Warehouse } from '../src/warehouse/warehouse.ts';
import { PipelineEvent, type PipelineOutput } from '../src/pipeline/pipeline-event.ts';
import type { EnrichedAdEvent } from '../schemas/types.ts';
import { ClickHouseSink } from '../sinks/clickhouse/sink.ts';
import { CLICKHOUSE_SINK_DEFAULTS } from '../sinks/clickhouse/config.ts';
import { startWarehouseServer } from '../test/helpers/engine-process.ts';
import { median, say, type Figures } from './harness.ts';

function flag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ (`getconf CLK_TCK`)

/** CPU seconds of process `pid`, all threads (utime + stime, /proc/PID/stat). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function ownCpuSeconds(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}

/** An impression read from `partition` (a writer of the bench is one partition, as in the pipeline). */
function impression(i: number, offset: number, partition: number): PipelineOutput {
  const now = Date.now();
  const e: EnrichedAdEvent = {
    eventId: randomUUID(), eventType: 'impression', playbackSessionId: `bench-${i}`, adInstanceId: `bench-${i}-1`, occurredAt: now - 1500, receivedAt: now - 700, processedAt: now, skewMs: 800,
    adPlayheadMs: 0, errorCode: null, metadataId: 'bench-mid', adId: 'ad-1', creativeId: 'cr-1', campaignId: `cmp-${i % 7}`, lineItemId: 'li-1', advertiserId: 'adv-1', podSequence: 1 + (i % 3),
    pricingModel: 'CPM', priceMicros: 25_000, currency: 'USD', deviceClass: 'ctv', osName: 'Roku', country: 'US', appName: 'bench', appVersion: '1', profileHash: `p${i % 5000}`,
    deviceHash: '', ipHash: '', hashKeyId: 'h1', vendorIds: {}, consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
    live: { liveEventId: 'bench-final', breakId: 'b1' }, source: { topic: TOPICS.raw, partition, offset },
  };
  const event = new PipelineEvent({
    record: { topic: TOPICS.raw, partition: e.source.partition, offset: String(offset), key: null, value: Buffer.alloc(0), timestamp: 0, headers: {} },
    originTopic: TOPICS.raw,
    originPartition: e.source.partition,
    originOffset: String(offset),
  });
  event.enriched = e;
  event.routes = new Set(['warehouse', 'billing']);
  return { kind: 'event', event };
}

/** The warehouse, counting the inserts made through it. */
function counting(warehouse: Warehouse): Warehouse & { inserts: number } {
  const counted = {
    kind: warehouse.kind,
    database: warehouse.database,
    inserts: 0,
    query: <T>(sql: string, params?: Readonly<Record<string, unknown>>) => warehouse.query<T>(sql, params),
    command: (sql: string, params?: Readonly<Record<string, unknown>>) => warehouse.command(sql, params),
    insert: (table: string, rows: readonly Readonly<Record<string, unknown>>[], options?: InsertOptions) => {
      counted.inserts++;
      return warehouse.insert(table, rows, options);
    },
    insertTabSeparated: (table: string, columns: readonly string[], lines: string, options?: InsertOptions) => {
      counted.inserts++;
      return warehouse.insertTabSeparated(table, columns, lines, options);
    },
    ping: () => warehouse.ping(),
    close: () => warehouse.close(),
  };
  return counted;
}

interface Run {
  readonly rows: number;
  readonly seconds: number;
  readonly inserts: number;
  readonly nodeUsPerRow: number;
  readonly warehouseUsPerRow: number;
}

interface Setup {
  readonly writers: number;
  readonly writes: number;
  readonly batch: number;
  readonly thinkMs: number;
  /** The sink's pacing; its default when undefined. */
  readonly lingerMs: number | undefined;
  readonly server: ChildProcess | undefined;
}

let nextOffset = 1_000_000;

async function run(warehouse: Warehouse, setup: Setup, label: string): Promise<Run> {
  const counted = counting(warehouse);
  const sink = new ClickHouseSink(counted, setup.lingerMs === undefined ? CLICKHOUSE_SINK_DEFAULTS : { ...CLICKHOUSE_SINK_DEFAULTS, batch: { ...CLICKHOUSE_SINK_DEFAULTS.batch, lingerMs: setup.lingerMs } });
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  // Every batch is built before the clock starts: the pipeline's work is not measured.
  const batches = Array.from({ length: setup.writers }, (_, w) =>
    Array.from({ length: setup.writes }, () => Array.from({ length: setup.batch }, (_, i) => impression(i, nextOffset++, w))),
  );
  const pauses = batches.map((writes) => writes.map(() => random() * setup.thinkMs));
  const serverPid = setup.server?.pid;
  const node0 = ownCpuSeconds();
  const server0 = serverPid === undefined ? 0 : cpuSecondsOf(serverPid);
  const t0 = performance.now();
  await Promise.all(
    batches.map(async (writes, w) => {
      for (let i = 0; i < writes.length; i++) {
        await new Promise((r) => setTimeout(r, pauses[w]![i]!));
        const outcome = await sink.write(writes[i]!);
        if (outcome.status !== 'delivered') throw new Error(`ClickHouse sink: ${JSON.stringify(outcome)}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2_000)); // the merges of this run's parts
  const node = ownCpuSeconds() - node0;
  const server = serverPid === undefined ? node : cpuSecondsOf(serverPid) - server0;
  const rows = setup.writers * setup.writes * setup.batch * 2;
  const result: Run = {
    rows,
    seconds,
    inserts: counted.inserts,
    nodeUsPerRow: (node * 1e6) / rows,
    warehouseUsPerRow: (server * 1e6) / rows,
  };
  say(
    `  ${label}: ${rows} rows in ${seconds.toFixed(2)} s (${Math.round(rows / seconds)} rows/s) in ${result.inserts} inserts; ` +
      `warehouse ${result.warehouseUsPerRow.toFixed(1)} µs/row${serverPid === undefined ? ' (this process: chDB and Node)' : `, Node ${result.nodeUsPerRow.toFixed(1)} µs/row`}`,
  );
  return result;
}

export default async function warehouse(args: readonly string[]): Promise<Figures> {
  const serve = args.includes('--serve');
  const setup = {
    writers: flag(args, '--writers', 6),
    writes: flag(args, '--writes', 30),
    batch: flag(args, '--batch', 500),
    thinkMs: flag(args, '--think-ms', 40),
    lingerMs: args.includes('--linger-ms') ? flag(args, '--linger-ms', 0) : undefined,
  };
  const runs = flag(args, '--runs', 3);
  const dataDir = mkdtempSync(join(tmpdir(), 'quartile-bench-warehouse-'));
  const server = serve ? await startWarehouseServer(join(dataDir, 'served')) : undefined;
  const config = loadConfig({
    env: { QUARTILE_DATA_DIR: dataDir, QUARTILE_LOG_LEVEL: 'silent', ...(server === undefined ? {} : { QUARTILE_CLICKHOUSE_URL: server.url }) },
  });
  const backends = await openBackends(config, silentLogger(), { eagerWarehouse: true });
  try {
    await migrate(backends.warehouse);
    say(
      `warehouse: ${setup.writers} writers × ${setup.writes} writes × ${setup.batch} impressions (2 rows each), 0–${setup.thinkMs} ms between writes, ` +
        `${server === undefined ? 'chDB in this process' : 'quartile warehouse serve'}`,
    );
    const s: Setup = { ...setup, server: server?.child };
    await run(backends.warehouse, { ...s, writes: Math.max(2, Math.round(setup.writes / 5)) }, 'warm-up');
    const results: Run[] = [];
    for (let r = 1; r <= runs; r++) results.push(await run(backends.warehouse, s, `run ${r}`));
    return {
      backend: server === undefined ? 'chdb' : 'serve',
      rows: results[0]!.rows,
      warehouseUsPerRow: Number(median(results.map((x) => x.warehouseUsPerRow)).toFixed(1)),
      warehouseRuns: results.map((x) => x.warehouseUsPerRow.toFixed(1)).join(' '),
      nodeUsPerRow: Number(median(results.map((x) => x.nodeUsPerRow)).toFixed(1)),
      inserts: median(results.map((x) => x.inserts)),
      rowsPerSec: Math.round(median(results.map((x) => x.rows / x.seconds))),
    };
  } finally {
    await backends.close();
    if (server !== undefined) {
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}
