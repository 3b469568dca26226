/** Tables the ClickHouse sink writes. */
export interface ClickHouseSinkConfig {
  readonly eventsTable: string;
  readonly billingTable: string;
  readonly sessionsTable: string;
  /** How inserts are batched across the pipeline's writes (see insert-coalescer.ts). */
  readonly batch: { readonly maxRows: number; readonly maxBytes: number; readonly lingerMs: number; readonly writers?: number };
}

export const CLICKHOUSE_SINK_DEFAULTS: ClickHouseSinkConfig = {
  eventsTable: 'ad_events',
  billingTable: 'billable_impressions',
  sessionsTable: 'ad_sessions',
  batch: { maxRows: 100_000, maxBytes: 64 * 1024 * 1024, lingerMs: 500 },
};
