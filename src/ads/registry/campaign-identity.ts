/**
 * Campaign, line-item and advertiser ids of an ad.
 *
 * The documented convention: an ad server that knows them sends a Quartile extension,
 *
 *   <Extensions>
 *     <Extension type="quartile">
 *       <CampaignId>c-123</CampaignId>
 *       <LineItemId>li-9</LineItemId>
 *       <AdvertiserId>adv-7</AdvertiserId>
 *     </Extension>
 *   </Extensions>
 *
 * (wrappers' extensions count too; the innermost value wins). Without it, the ids come
 * from the VAST itself: campaign ← `Ad@id`, advertiser ← `<Advertiser>`, line item ←
 * none (empty), and the creative ← the first `<UniversalAdId>`, else `Creative@id`,
 * else `Creative@adId`.
 */
import type { Ad, Creative } from '../vast/model.ts';
import type { CampaignIdentity } from './ad-metadata.ts';

function element(xml: string, name: string): string | null {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>\\s*(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))\\s*</${name}>`).exec(xml);
  const value = (match?.[1] ?? match?.[2])?.trim();
  return value === undefined || value === '' ? null : value;
}

/** Ids from `<Extension type="quartile">`, innermost (last) extension first. */
function fromExtension(ad: Ad): Partial<CampaignIdentity> {
  const out: { campaignId?: string; lineItemId?: string; advertiserId?: string } = {};
  for (const ext of ad.extensions) {
    if (ext.type?.toLowerCase() !== 'quartile') continue;
    const campaignId = element(ext.xml, 'CampaignId');
    const lineItemId = element(ext.xml, 'LineItemId');
    const advertiserId = element(ext.xml, 'AdvertiserId');
    if (campaignId !== null) out.campaignId = campaignId;
    if (lineItemId !== null) out.lineItemId = lineItemId;
    if (advertiserId !== null) out.advertiserId = advertiserId;
  }
  return out;
}

/** The campaign identity of an ad. */
export function campaignIdentity(ad: Ad): CampaignIdentity {
  const ext = fromExtension(ad);
  return {
    campaignId: ext.campaignId ?? ad.id ?? 'unknown',
    lineItemId: ext.lineItemId ?? '',
    advertiserId: ext.advertiserId ?? ad.advertiser ?? '',
  };
}

/** The creative id: UniversalAdId, else Creative@id, else Creative@adId. */
export function creativeIdOf(creative: Creative | undefined): string {
  const universal = creative?.universalAdIds.find((u) => u.value !== '' && u.value.toLowerCase() !== 'unknown');
  return universal?.value ?? creative?.id ?? creative?.adId ?? '';
}
