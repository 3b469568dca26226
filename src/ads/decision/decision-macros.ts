/**
 * The macro values filled into ad source templates and into fired Error URIs.
 *
 * IAB macros (VAST 4.x, "Macros") come from the request: [DEVICEIP], [DEVICEUA],
 * [IFA] (withheld, `-2`, when the device limits ad tracking), [GDPRCONSENT],
 * [GPPSTRING], [BREAKPOSITION], [BREAKMAXDURATION] (seconds), [TRANSACTIONID] (the
 * decision id)… Quartile's own, in the same bracket syntax:
 *
 * | macro | value |
 * |---|---|
 * | [QUARTILE_COHORT] | the cohort key (`*` for everyone else) |
 * | [QUARTILE_COUNTRY] | ISO 3166-1 alpha-2 country |
 * | [QUARTILE_DEVICE_CLASS] | ctv, mobile, desktop… |
 * | [QUARTILE_CONSENT] | personalized or contextual |
 * | [QUARTILE_LIVE_EVENT_ID] | the live event, for live decisions |
 * | [QUARTILE_BREAK_ID] | the break, for live decisions |
 *
 * An unknown value is written `-1`, as the IAB asks.
 */
import type { MacroValues } from '../vast/index.ts';
import type { BreakPosition, DecisionConsent, DecisionDevice } from './request.ts';

const POSITION_CODE: Readonly<Record<BreakPosition, number>> = { preroll: 1, midroll: 2, postroll: 3 };

/** What the macros are made from. Device and consent are absent for a cohort prefetch. */
export interface MacroContext {
  readonly decisionId: string;
  readonly contentId: string | null;
  readonly breakPosition: BreakPosition;
  readonly podMaxAds: number;
  readonly podMaxDurationMs: number;
  readonly liveEventId: string | null;
  readonly breakId: string | null;
  readonly cohort: string | null;
  readonly country: string | null;
  readonly deviceClass: string | null;
  readonly consentClass: string | null;
  readonly device: DecisionDevice | null;
  readonly consent: DecisionConsent | null;
}

/** The macro values of one decision or one prefetched cohort. */
export function decisionMacros(ctx: MacroContext): MacroValues {
  const device = ctx.device;
  const consent = ctx.consent;
  const lat = consent?.limitAdTracking ?? undefined;
  return {
    TRANSACTIONID: ctx.decisionId,
    CONTENTID: ctx.contentId ?? undefined,
    BREAKPOSITION: POSITION_CODE[ctx.breakPosition],
    BREAKMAXADS: ctx.podMaxAds,
    BREAKMAXDURATION: Math.floor(ctx.podMaxDurationMs / 1000),
    // 1: a server asks on a device's behalf; 2: a server asks on its own (a cohort prefetch).
    SERVERSIDE: device === null ? 2 : 1,
    DEVICEIP: device?.ip ?? undefined,
    DEVICEUA: device?.userAgent ?? undefined,
    IFA: lat === true ? null : (device?.ifa ?? undefined),
    IFATYPE: lat === true ? null : (device?.ifaType ?? undefined),
    LIMITADTRACKING: lat,
    GDPRCONSENT: consent?.tcf ?? undefined,
    GPPSTRING: consent?.gpp ?? undefined,
    GPPSECTIONID: consent === null || consent.gppSid.length === 0 ? undefined : consent.gppSid,
    REGULATIONS: consent?.gdprApplies === true ? ['gdpr'] : undefined,
    QUARTILE_COHORT: ctx.cohort ?? undefined,
    QUARTILE_COUNTRY: ctx.country ?? undefined,
    QUARTILE_DEVICE_CLASS: ctx.deviceClass ?? undefined,
    QUARTILE_CONSENT: ctx.consentClass ?? undefined,
    QUARTILE_LIVE_EVENT_ID: ctx.liveEventId ?? undefined,
    QUARTILE_BREAK_ID: ctx.breakId ?? undefined,
  };
}
