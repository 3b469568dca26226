/** TCF v2 and GPP strings for tests, encoded with the IAB libraries and a tiny vendor list. */
import { tcfConsentString } from '../../../src/simulate/consent-strings.ts';
import { GppModel } from '@iabgpp/cmpapi';

/** A TCF v2 string giving consent to `purposes` and to the `vendors` GVL ids. */
export function tcfString(options: { purposes: readonly number[]; vendors: readonly number[] }): string {
  return tcfConsentString({ ...options, listed: [126, 278, 999] });
}

/** A GPP string holding a TCF EU v2 section with consent to `purposes` and `vendors`. */
export function gppWithTcf(options: { purposes: readonly number[]; vendors: readonly number[] }): string {
  const model = new GppModel();
  model.setFieldValue('tcfeuv2', 'PurposeConsents', Array.from({ length: 24 }, (_, i) => options.purposes.includes(i + 1)));
  model.setFieldValue('tcfeuv2', 'VendorConsents', [...options.vendors]);
  model.setFieldValue('tcfeuv2', 'CmpId', 10);
  return model.encode();
}
