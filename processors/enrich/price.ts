/**
 * The price of one event in millionths of the currency unit, from VAST <Pricing>:
 * a CPM is charged per impression (value / 1000 per impression), a CPC per click,
 * a CPCV / CPV per completed view. Other models (flat rate…) price no single event.
 */
import type { EventType } from '../../schemas/types.ts';
import type { AdMetadata } from '../../src/ads/registry/ad-metadata.ts';

export function priceMicros(pricing: AdMetadata['pricing'], eventType: EventType): number {
  if (pricing === null || !Number.isFinite(pricing.value) || pricing.value < 0) return 0;
  const model = pricing.model.toLowerCase();
  if (model === 'cpm' && eventType === 'impression') return Math.round(pricing.value * 1000);
  if (model === 'cpc' && eventType === 'click') return Math.round(pricing.value * 1_000_000);
  if ((model === 'cpcv' || model === 'cpv') && eventType === 'complete') return Math.round(pricing.value * 1_000_000);
  return 0;
}
