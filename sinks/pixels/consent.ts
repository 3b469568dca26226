/**
 * Consent gating of vendor beacons (IAB TCF v2 and GPP).
 *
 * A beacon to a vendor fires when GDPR does not apply, or when the TCF string gives
 * that vendor's GVL id consent for every configured purpose (default purpose 7,
 * "measure ad performance") and no publisher restriction forbids it. GDPR applies
 * when the event says so, or says nothing but carries a TCF string or a GPP string
 * whose applicable sections include the TCF EU section (id 2). The TCF string is the
 * event's `tcf`, else the TCF EU section of its GPP string.
 *
 * Under GDPR a vendor with no GVL id cannot have its consent checked, so its beacons
 * are suppressed unless `pixels.allowVendorsWithoutGvlId` says otherwise.
 *
 * Decoding costs 15–150 µs a string and a live break's viewers share a handful of
 * CMP strings, so decoded strings are cached (by the string itself, in memory).
 */
import { GppModel } from '@iabgpp/cmpapi';
import { RestrictionType, TCString } from '@iabtechlabtcf/core';
import type { Consent } from '../../schemas/types.ts';
import { LruCache } from '../../src/core/lru-cache.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import type { VendorIdentity } from './config.ts';

/** Whether a vendor's beacon may fire. */
export type ConsentVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: ReasonCode };

/** What a TCF string grants, reduced to what the gate asks. */
interface TcfGrant {
  readonly purposes: ReadonlySet<number>;
  readonly vendors: ReadonlySet<number>;
  /** Vendor ids a publisher restriction forbids for one of our purposes. */
  readonly restricted: ReadonlySet<number>;
}

const ALLOWED: ConsentVerdict = { allowed: true };
const TCF_EU_SECTION = 2;
const INVALID = 'invalid' as const;

/** The TCF EU v2 section of a GPP string, as a TCF string; null when it has none. */
export function tcfFromGpp(gpp: string): string | null {
  const model = new GppModel(gpp);
  if (!model.hasSection('tcfeuv2')) return null;
  return model.encodeSection('tcfeuv2');
}

/** The consent gate; one per sink. */
export class ConsentGate {
  readonly #purposes: readonly number[];
  readonly #allowWithoutGvlId: boolean;
  readonly #tcf = new LruCache<string, TcfGrant | typeof INVALID>({ maxEntries: 10_000, ttlMs: 0 });
  readonly #gpp = new LruCache<string, string | null | typeof INVALID>({ maxEntries: 10_000, ttlMs: 0 });

  constructor(options: { readonly purposes: readonly number[]; readonly allowVendorsWithoutGvlId: boolean }) {
    this.#purposes = options.purposes;
    this.#allowWithoutGvlId = options.allowVendorsWithoutGvlId;
  }

  /** True when GDPR applies to an event with this consent. */
  static gdprApplies(consent: Consent): boolean {
    if (consent.gdprApplies !== null) return consent.gdprApplies;
    return (consent.tcf !== null && consent.tcf !== '') || consent.gppSid.includes(TCF_EU_SECTION);
  }

  /** The verdict for one event's beacons to `vendor`. */
  verdict(consent: Consent, vendor: VendorIdentity): ConsentVerdict {
    if (!ConsentGate.gdprApplies(consent)) return ALLOWED;
    if (vendor.gvlId === null) return this.#allowWithoutGvlId ? ALLOWED : { allowed: false, reason: 'SINK_PIXEL_VENDOR_UNKNOWN' };
    const grant = this.#grant(consent);
    if (grant === null) return { allowed: false, reason: 'SINK_PIXEL_CONSENT_MISSING' };
    if (grant === INVALID) return { allowed: false, reason: 'SINK_PIXEL_CONSENT_INVALID' };
    const id = vendor.gvlId;
    const ok = grant.vendors.has(id) && !grant.restricted.has(id) && this.#purposes.every((p) => grant.purposes.has(p));
    return ok ? ALLOWED : { allowed: false, reason: 'SINK_PIXEL_NO_CONSENT' };
  }

  #grant(consent: Consent): TcfGrant | typeof INVALID | null {
    let tcf = consent.tcf !== null && consent.tcf !== '' ? consent.tcf : null;
    if (tcf === null && consent.gpp !== null && consent.gpp !== '') {
      let section = this.#gpp.get(consent.gpp);
      if (section === undefined) {
        try {
          section = tcfFromGpp(consent.gpp);
        } catch {
          section = INVALID;
        }
        this.#gpp.set(consent.gpp, section);
      }
      if (section === INVALID) return INVALID;
      tcf = section;
    }
    if (tcf === null) return null;
    let grant = this.#tcf.get(tcf);
    if (grant === undefined) {
      grant = this.#decode(tcf);
      this.#tcf.set(tcf, grant);
    }
    return grant;
  }

  #decode(tcf: string): TcfGrant | typeof INVALID {
    try {
      const model = TCString.decode(tcf);
      const purposes = new Set<number>();
      model.purposeConsents.forEach((has, id) => {
        if (has) purposes.add(id);
      });
      const vendors = new Set<number>();
      model.vendorConsents.forEach((has, id) => {
        if (has) vendors.add(id);
      });
      // A publisher may forbid a vendor a purpose outright (TCF v2, "Publisher Restrictions").
      const restricted = new Set<number>();
      for (const purpose of this.#purposes) {
        for (const restriction of model.publisherRestrictions.getRestrictions()) {
          if (restriction.purposeId === purpose && restriction.restrictionType === RestrictionType.NOT_ALLOWED) {
            for (const v of model.publisherRestrictions.getVendors(restriction)) restricted.add(v);
          }
        }
      }
      return { purposes, vendors, restricted };
    } catch {
      return INVALID;
    }
  }
}
