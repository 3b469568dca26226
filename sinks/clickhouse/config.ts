/** Tables the ClickHouse sink writes. */
export interface ClickHouseSinkConfig {
  readonly eventsTable: string;
  readonly billingTable: string;
  readonly sessionsTable: string;
}

export const CLICKHOUSE_SINK_DEFAULTS: ClickHouseSinkConfig = {
  eventsTable: 'ad_events',
  billingTable: 'billable_impressions',
  sessionsTable: 'ad_sessions',
};
