/** The campaign report as a table for people. */
import type { CampaignReportRow } from './campaign-report.ts';
import { textTable } from '../../cli-ui/text-table.ts';

/** Spend for people: at least two decimals (cents), never fewer than ClickHouse gave. */
function money(spend: string, currency: string): string {
  const [whole = '0', fraction = ''] = spend.split('.');
  const amount = `${whole}.${fraction.padEnd(2, '0')}`;
  return currency === '' ? amount : `${amount} ${currency}`;
}

function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** The campaign report as aligned lines for a terminal (quartile report campaigns, quartile simulate). */
export function campaignTable(rows: readonly CampaignReportRow[]): string[] {
  return textTable(
    [
      { heading: 'campaign', align: 'left' },
      { heading: 'impressions', align: 'right' },
      { heading: 'unique viewers', align: 'right' },
      { heading: 'starts', align: 'right' },
      { heading: 'completes', align: 'right' },
      { heading: 'completion', align: 'right' },
      { heading: 'spend', align: 'right' },
    ],
    rows.map((r) => [r.campaignId, String(r.impressions), String(r.uniqueViewers), String(r.starts), String(r.completes), percent(r.completionRate), money(r.spend, r.currency)]),
  );
}

