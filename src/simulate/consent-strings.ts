/**
 * The TCF v2 string a consenting simulated viewer sends: consent to purposes 1 and 7
 * for DoubleVerify (GVL id 126) and Integral Ad Science (278). Encoding needs a vendor
 * list; a two-vendor list is enough, since the string only records ids.
 */
import { GVL, TCModel, TCString } from '@iabtechlabtcf/core';

let cached: { tcf: string } | undefined;

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

/** The consent strings of a consenting viewer (encoded once). */
export function consentAllStrings(): { tcf: string } {
  if (cached === undefined) {
    const model = new TCModel(tinyVendorList([126, 278]));
    model.cmpId = 10;
    model.cmpVersion = 1;
    model.purposeConsents.set([1, 7]);
    model.vendorConsents.set([126, 278]);
    cached = { tcf: TCString.encode(model) };
  }
  return cached;
}
