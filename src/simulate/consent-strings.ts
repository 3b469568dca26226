/**
 * TCF v2 consent strings, encoded with the IAB library. Encoding needs a vendor list;
 * a tiny one naming the vendors in question is enough, since the string only records
 * ids. A consenting simulated viewer sends consent to purposes 1 and 7 for DoubleVerify
 * (GVL id 126) and Integral Ad Science (278).
 */
import { GVL, TCModel, TCString } from '@iabtechlabtcf/core';

function tinyVendorList(vendorIds: readonly number[]): GVL {
  const purposes: Record<string, unknown> = {};
  for (let i = 1; i <= 11; i++) purposes[String(i)] = { id: i, name: `Purpose ${i}`, description: '', illustrations: [] };
  const vendor = (id: number): Record<string, unknown> => ({
    id, name: `Vendor ${id}`, purposes: [1, 7], legIntPurposes: [], flexiblePurposes: [], specialPurposes: [], features: [], specialFeatures: [],
    policyUrl: 'https://vendor.example/privacy', cookieMaxAgeSeconds: null, usesCookies: false, usesNonCookieAccess: false,
  });
  return new GVL({
    gvlSpecificationVersion: 3, vendorListVersion: 100, tcfPolicyVersion: 4, lastUpdated: '2026-01-01T00:00:00Z',
    purposes, specialPurposes: {}, features: {}, specialFeatures: {}, stacks: {}, dataCategories: {},
    vendors: Object.fromEntries(vendorIds.map((id) => [String(id), vendor(id)])),
  } as never);
}

/** A TCF v2 string giving consent to `purposes` and to the `vendors` GVL ids (`listed`: further ids the vendor list knows). */
export function tcfConsentString(options: { readonly purposes: readonly number[]; readonly vendors: readonly number[]; readonly listed?: readonly number[] }): string {
  const model = new TCModel(tinyVendorList([...new Set([...options.vendors, ...(options.listed ?? [])])]));
  model.cmpId = 10;
  model.cmpVersion = 1;
  model.purposeConsents.set([...options.purposes]);
  model.vendorConsents.set([...options.vendors]);
  return TCString.encode(model);
}

let cached: { tcf: string } | undefined;

/** The consent strings of a consenting simulated viewer (encoded once). */
export function consentAllStrings(): { tcf: string } {
  cached ??= { tcf: tcfConsentString({ purposes: [1, 7], vendors: [126, 278] }) };
  return cached;
}
