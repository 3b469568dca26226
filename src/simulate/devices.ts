/**
 * Who the simulated viewers are: their device identity, the User-Agent that tells them
 * apart at the vendors, and their consent. All of it follows from the viewer's index
 * and the seed, so a run can be reconciled from its options alone.
 */
import type { Consent } from '../../schemas/types.ts';
import { consentAllStrings } from './consent-strings.ts';
import { Random } from './random.ts';
import type { SimVendor } from './sim-vendors.ts';

const UA_PREFIX = 'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/85.0.4183.93 TV Safari/537.36 QuartileSim/';

/** The User-Agent of viewer `viewer`'s TV. */
export function userAgentOf(viewer: number): string {
  return `${UA_PREFIX}${viewer}`;
}

/** The viewer a simulated User-Agent belongs to; undefined for any other. */
export function viewerOfUserAgent(ua: string): number | undefined {
  if (!ua.startsWith(UA_PREFIX)) return undefined;
  const n = Number(ua.slice(UA_PREFIX.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * A viewer's consent situation:
 * - `outside-gdpr` (85 %): GDPR does not apply, every vendor fires;
 * - `consented` (10 %): GDPR applies, TCF consent to purposes 1 and 7 for DV and IAS (not Nielsen, who has no GVL id);
 * - `no-string` (5 %): GDPR applies and the device sent no consent string: nothing fires.
 */
export type ConsentClass = 'outside-gdpr' | 'consented' | 'no-string';

export function consentClassOf(seed: number, viewer: number): ConsentClass {
  const r = Random.derive(seed, viewer, 0xc0).next();
  return r < 0.85 ? 'outside-gdpr' : r < 0.95 ? 'consented' : 'no-string';
}

/** The consent object the device reports. */
export function consentOf(kind: ConsentClass): Partial<Consent> {
  switch (kind) {
    case 'outside-gdpr':
      return { gdprApplies: false };
    case 'consented':
      return { gdprApplies: true, tcf: consentAllStrings().tcf };
    case 'no-string':
      return { gdprApplies: true };
  }
}

/** Whether `vendor`'s beacons may fire for a viewer of this class (purpose 7 is the default requirement). */
export function vendorMayFire(kind: ConsentClass, vendor: SimVendor): boolean {
  if (kind === 'outside-gdpr') return true;
  if (kind === 'no-string') return false;
  return vendor.gvlId === 126 || vendor.gvlId === 278;
}

/** The identity fields of a viewer's device (raw; Quartile hashes them before anything is stored). */
export function deviceOf(runKey: string, viewer: number): { deviceId: string; profileId: string; ifa: string; userAgent: string } {
  return {
    deviceId: `sim-device-${runKey}-${viewer}`,
    profileId: `sim-profile-${viewer}`,
    ifa: Random.derive(0x1fa, viewer).uuid(),
    userAgent: userAgentOf(viewer),
  };
}
