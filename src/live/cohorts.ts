/**
 * Cohorts: the targeting keys live break pods are prefetched for. A cohort key joins
 * the configured dimensions with dots, e.g. `US.ctv.personalized` for
 * `live.cohortDimensions = [country, deviceClass, consent]`. The cohorts named in
 * `live.cohorts` get their own pods; every other viewer gets the `*` cohort's.
 */
import { QuartileError } from '../core/errors.ts';
import type { DecisionConsent } from '../ads/decision/request.ts';

/** A dimension of a cohort key. */
export type CohortDimension = 'country' | 'deviceClass' | 'consent';

/** The cohort every viewer not in a configured cohort belongs to. */
export const DEFAULT_COHORT = '*';

const DIMENSIONS: readonly CohortDimension[] = ['country', 'deviceClass', 'consent'];

/** What a viewer looks like to cohorting. */
export interface CohortTraits {
  readonly country: string | null;
  readonly deviceClass: string | null;
  readonly userAgent: string | null;
  readonly consent: DecisionConsent;
}

/** The validated cohort settings. */
export interface CohortSpec {
  readonly dimensions: readonly CohortDimension[];
  /** Configured cohorts, then `*`. */
  readonly cohorts: readonly string[];
}

/** Checks `live.cohortDimensions` and `live.cohorts`; throws CONFIG_INVALID_VALUE naming the key. */
export function cohortSpec(dimensions: readonly string[], cohorts: readonly string[]): CohortSpec {
  if (dimensions.length === 0 || dimensions.some((d) => !(DIMENSIONS as readonly string[]).includes(d)) || new Set(dimensions).size !== dimensions.length) {
    throw new QuartileError('CONFIG_INVALID_VALUE', `Config key "live.cohortDimensions" must list some of ${DIMENSIONS.join(', ')}, each once.`);
  }
  for (const cohort of cohorts) {
    if (cohort === DEFAULT_COHORT) continue;
    if (cohort.split('.').length !== dimensions.length || cohort.split('.').some((part) => part === '')) {
      throw new QuartileError('CONFIG_INVALID_VALUE', `Config key "live.cohorts": "${cohort}" must have ${dimensions.length} dot-separated parts (${dimensions.join('.')}).`);
    }
  }
  return { dimensions: dimensions as CohortDimension[], cohorts: [...new Set([...cohorts.filter((c) => c !== DEFAULT_COHORT), DEFAULT_COHORT])] };
}

/** `personalized`, or `contextual` when the viewer limits ad tracking or GDPR applies without a TCF string. */
export function consentClass(consent: DecisionConsent): 'personalized' | 'contextual' {
  return consent.limitAdTracking || (consent.gdprApplies === true && consent.tcf === null) ? 'contextual' : 'personalized';
}

const CTV = /smart-?tv|hbbtv|roku|tizen|web0s|webos|apple ?tv|tvos|\baft[a-z]|bravia|crkey|playstation|xbox|android tv|googletv|vizio|viera/i;
const MOBILE = /mobile|iphone|ipad|android/i;

/** The device class the request names, else a guess from the user agent. */
export function deviceClassOf(traits: CohortTraits): string {
  if (traits.deviceClass !== null) return traits.deviceClass;
  const ua = traits.userAgent;
  if (ua === null) return 'unknown';
  if (CTV.test(ua)) return 'ctv';
  if (MOBILE.test(ua)) return 'mobile';
  return 'desktop';
}

/** The viewer's cohort key (which may or may not be a prefetched cohort). */
export function cohortKeyOf(spec: CohortSpec, traits: CohortTraits): string {
  return spec.dimensions
    .map((dimension) => {
      switch (dimension) {
        case 'country':
          return traits.country ?? 'unknown';
        case 'deviceClass':
          return deviceClassOf(traits);
        case 'consent':
          return consentClass(traits.consent);
      }
    })
    .join('.');
}

/** The dimension values of a cohort key (`*` has none). */
export function cohortValues(spec: CohortSpec, cohort: string): Partial<Record<CohortDimension, string>> {
  if (cohort === DEFAULT_COHORT) return {};
  const parts = cohort.split('.');
  return Object.fromEntries(spec.dimensions.map((d, i) => [d, parts[i]!]));
}
