/** TCF v2 and GPP strings for tests, encoded with the IAB libraries and a tiny vendor list. */
import { GVL, TCModel, TCString } from '@iabtechlabtcf/core';
import { GppModel } from '@iabgpp/cmpapi';

const purposes: Record<string, unknown> = {};
for (let i = 1; i <= 11; i++) purposes[String(i)] = { id: i, name: `Purpose ${i}`, description: '', illustrations: [] };
const vendor = (id: number): Record<string, unknown> => ({
  id, name: `Vendor ${id}`, purposes: [1, 7], legIntPurposes: [], flexiblePurposes: [], specialPurposes: [], features: [], specialFeatures: [],
  policyUrl: 'https://vendor.example/privacy', cookieMaxAgeSeconds: null, usesCookies: false, usesNonCookieAccess: false,
});

function gvl(vendorIds: readonly number[]): GVL {
  return new GVL({
    gvlSpecificationVersion: 3, vendorListVersion: 100, tcfPolicyVersion: 4, lastUpdated: '2026-01-01T00:00:00Z',
    purposes, specialPurposes: {}, features: {}, specialFeatures: {}, stacks: {}, dataCategories: {},
    vendors: Object.fromEntries(vendorIds.map((id) => [String(id), vendor(id)])),
  } as never);
}

/** A TCF v2 string giving consent to `purposes` and to the `vendors` GVL ids. */
export function tcfString(options: { purposes: readonly number[]; vendors: readonly number[] }): string {
  const model = new TCModel(gvl([...new Set([...options.vendors, 126, 278, 999])]));
  model.cmpId = 10;
  model.cmpVersion = 1;
  model.purposeConsents.set([...options.purposes]);
  model.vendorConsents.set([...options.vendors]);
  return TCString.encode(model);
}

/** A GPP string holding a TCF EU v2 section with consent to `purposes` and `vendors`. */
export function gppWithTcf(options: { purposes: readonly number[]; vendors: readonly number[] }): string {
  const model = new GppModel();
  model.setFieldValue('tcfeuv2', 'PurposeConsents', Array.from({ length: 24 }, (_, i) => options.purposes.includes(i + 1)));
  model.setFieldValue('tcfeuv2', 'VendorConsents', [...options.vendors]);
  model.setFieldValue('tcfeuv2', 'CmpId', 10);
  return model.encode();
}
