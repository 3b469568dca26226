/**
 * Billing totals per campaign for the Control Room, read from the warehouse seam
 * (`billable_impressions FINAL`, so a replayed impression counts once). The query
 * runs at most once every `everyMs`, in the background: a page refresh never waits
 * on ClickHouse, and a hundred open pages cost one query.
 */
import { messageOf } from '../core/errors.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';

/** Impressions and spend of one campaign. */
export interface CampaignTotal {
  readonly campaignId: string;
  readonly impressions: number;
  /** Decimal string, as ClickHouse sums it (no float rounding). */
  readonly spend: string;
  readonly currency: string;
}

/** What the page shows in the billing panel. */
export type BillingView =
  | { readonly status: 'unavailable'; readonly message: string }
  | { readonly status: 'pending' }
  | { readonly status: 'ok'; readonly at: number; readonly campaigns: readonly CampaignTotal[] }
  | { readonly status: 'error'; readonly at: number; readonly message: string };

/** Campaigns shown, largest first. */
const TOP_CAMPAIGNS = 25;

export class BillingTotals {
  readonly #warehouse: Warehouse;
  readonly #everyMs: number;
  readonly #now: () => number;
  #view: BillingView = { status: 'pending' };
  #lastStarted = Number.NEGATIVE_INFINITY;
  #running: Promise<void> | undefined;

  constructor(warehouse: Warehouse, options: { readonly everyMs: number; readonly now?: () => number }) {
    this.#warehouse = warehouse;
    this.#everyMs = options.everyMs;
    this.#now = options.now ?? Date.now;
  }

  /** The latest totals; starts a refresh in the background when they are older than `everyMs`. */
  view(): BillingView {
    if (this.#running === undefined && this.#now() - this.#lastStarted >= this.#everyMs) {
      this.#lastStarted = this.#now();
      this.#running = this.refresh().finally(() => (this.#running = undefined));
    }
    return this.#view;
  }

  /** Queries the warehouse now. */
  async refresh(): Promise<void> {
    const db = this.#warehouse.database;
    try {
      const rows = await this.#warehouse.query<{ campaign_id: string; impressions: string | number; spend: string; currency: string }>(
        `SELECT campaign_id, count() AS impressions, toString(sum(price)) AS spend, any(currency) AS currency
         FROM ${db}.billable_impressions FINAL
         GROUP BY campaign_id ORDER BY impressions DESC, campaign_id LIMIT ${TOP_CAMPAIGNS}`,
      );
      this.#view = {
        status: 'ok',
        at: this.#now(),
        campaigns: rows.map((r) => ({ campaignId: r.campaign_id, impressions: Number(r.impressions), spend: r.spend, currency: r.currency })),
      };
    } catch (error) {
      this.#view = { status: 'error', at: this.#now(), message: `ClickHouse did not answer the billing query: ${messageOf(error)}` };
    }
  }

  /** Waits for a refresh in progress (shutdown, tests). */
  async settle(): Promise<void> {
    await this.#running;
  }
}
