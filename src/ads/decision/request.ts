/**
 * The body of POST /v1/decisions, validated. The caller is the playback service, on
 * a device's behalf. A bad request is refused with DECISION_BAD_REQUEST and a message
 * that names the field, so the playback team can fix it without reading our code.
 */
import { badField, type RequestError } from '../request-error.ts';

/** Where the break sits in the content (IAB [BREAKPOSITION] 1, 2, 3). */
export type BreakPosition = 'preroll' | 'midroll' | 'postroll';

/** The device the ads are for. Raw identifiers are used in flight only. */
export interface DecisionDevice {
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly ifa: string | null;
  readonly ifaType: string | null;
  readonly deviceId: string | null;
  readonly profileId: string | null;
  /** The device's Accept-Language, forwarded on server-side requests. */
  readonly acceptLanguage: string | null;
  /** The page or app URL the device plays in, forwarded as X-Device-Referer. */
  readonly referer: string | null;
}

/** Privacy signals, as on telemetry events. */
export interface DecisionConsent {
  readonly gdprApplies: boolean | null;
  readonly tcf: string | null;
  readonly gpp: string | null;
  readonly gppSid: readonly number[];
  readonly limitAdTracking: boolean;
}

/** A validated decision request. */
export interface DecisionRequest {
  readonly playbackSessionId: string;
  readonly contentId: string;
  readonly liveEventId: string | null;
  readonly breakId: string | null;
  readonly breakPosition: BreakPosition;
  /** The longest pod the caller accepts; null = the configured default (or the cued break's). */
  readonly podMaxDurationMs: number | null;
  /** The most ads the caller accepts; null = the configured default (or the cued break's). */
  readonly podMaxAds: number | null;
  /** ISO 3166-1 alpha-2, upper case, when the playback service knows it (cohorts, macros). */
  readonly country: string | null;
  /** ctv, mobile, desktop… when the playback service knows it; else guessed from the user agent. */
  readonly deviceClass: string | null;
  readonly device: DecisionDevice;
  readonly consent: DecisionConsent;
}

const TOP = new Set([
  'playbackSessionId',
  'contentId',
  'liveEventId',
  'breakId',
  'breakPosition',
  'podMaxDurationMs',
  'podMaxAds',
  'country',
  'deviceClass',
  'device',
  'consent',
]);
const DEVICE = ['ip', 'userAgent', 'ifa', 'ifaType', 'deviceId', 'profileId', 'acceptLanguage', 'referer'] as const;
const CONSENT = new Set(['gdprApplies', 'tcf', 'gpp', 'gppSid', 'limitAdTracking']);
const POSITIONS = new Set<string>(['preroll', 'midroll', 'postroll']);
const ID = /^[\x21-\x7e]{1,128}$/;
const MAX_POD_ADS = 32;
const MAX_POD_MS = 3_600_000;

function bad(field: string, problem: string): RequestError {
  return badField('DECISION_BAD_REQUEST', field, problem);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function id(body: Record<string, unknown>, field: string, required: boolean): string | null {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw bad(field, 'is required.');
    return null;
  }
  if (typeof value !== 'string' || !ID.test(value)) throw bad(field, 'must be a string of 1–128 printable ASCII characters without spaces.');
  return value;
}

function text(body: Record<string, unknown>, field: string, path: string, max: number): string | null {
  const value = body[field];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw bad(path, 'must be a string.');
  if (value.length > max) throw bad(path, `must be at most ${max} characters.`);
  return value;
}

function integer(body: Record<string, unknown>, field: string, min: number, max: number): number | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad(field, `must be an integer from ${min} to ${max}.`);
  return value;
}

function device(raw: unknown): DecisionDevice {
  if (raw === undefined || raw === null) return { ip: null, userAgent: null, ifa: null, ifaType: null, deviceId: null, profileId: null, acceptLanguage: null, referer: null };
  if (!isObject(raw)) throw bad('device', 'must be an object.');
  for (const key of Object.keys(raw)) if (!(DEVICE as readonly string[]).includes(key)) throw bad(`device.${key}`, `is not a device field (known: ${DEVICE.join(', ')}).`);
  return {
    ip: text(raw, 'ip', 'device.ip', 64),
    userAgent: text(raw, 'userAgent', 'device.userAgent', 1024),
    ifa: text(raw, 'ifa', 'device.ifa', 256),
    ifaType: text(raw, 'ifaType', 'device.ifaType', 32),
    deviceId: text(raw, 'deviceId', 'device.deviceId', 256),
    profileId: text(raw, 'profileId', 'device.profileId', 256),
    acceptLanguage: text(raw, 'acceptLanguage', 'device.acceptLanguage', 256),
    referer: text(raw, 'referer', 'device.referer', 2048),
  };
}

function consent(raw: unknown): DecisionConsent {
  if (raw === undefined || raw === null) return { gdprApplies: null, tcf: null, gpp: null, gppSid: [], limitAdTracking: false };
  if (!isObject(raw)) throw bad('consent', 'must be an object.');
  for (const key of Object.keys(raw)) if (!CONSENT.has(key)) throw bad(`consent.${key}`, `is not a consent field (known: ${[...CONSENT].join(', ')}).`);
  const gdpr = raw['gdprApplies'];
  if (gdpr !== undefined && gdpr !== null && typeof gdpr !== 'boolean') throw bad('consent.gdprApplies', 'must be true, false or null.');
  const lat = raw['limitAdTracking'];
  if (lat !== undefined && lat !== null && typeof lat !== 'boolean') throw bad('consent.limitAdTracking', 'must be true or false.');
  const sid = raw['gppSid'];
  if (sid !== undefined && sid !== null && (!Array.isArray(sid) || sid.length > 32 || !sid.every((n) => Number.isInteger(n) && n >= 0 && n < 1000))) {
    throw bad('consent.gppSid', 'must be a list of GPP section ids (integers).');
  }
  return {
    gdprApplies: (gdpr as boolean | null | undefined) ?? null,
    tcf: text(raw, 'tcf', 'consent.tcf', 4096),
    gpp: text(raw, 'gpp', 'consent.gpp', 4096),
    gppSid: (sid as number[] | null | undefined) ?? [],
    limitAdTracking: (lat as boolean | null | undefined) ?? false,
  };
}

/** Validates a parsed JSON body; throws DECISION_BAD_REQUEST naming the field. */
export function parseDecisionRequest(body: unknown): DecisionRequest {
  if (!isObject(body)) throw bad('body', 'must be a JSON object with playbackSessionId, contentId and breakPosition.');
  for (const key of Object.keys(body)) if (!TOP.has(key)) throw bad(key, `is not a decision request field (known: ${[...TOP].join(', ')}).`);
  const position = body['breakPosition'];
  if (position === undefined || position === null) throw bad('breakPosition', 'is required: preroll, midroll or postroll.');
  if (typeof position !== 'string' || !POSITIONS.has(position)) throw bad('breakPosition', 'must be preroll, midroll or postroll.');
  const country = text(body, 'country', 'country', 2);
  if (country !== null && !/^[A-Za-z]{2}$/.test(country)) throw bad('country', 'must be an ISO 3166-1 alpha-2 code such as "US".');
  const deviceClass = text(body, 'deviceClass', 'deviceClass', 32);
  if (deviceClass !== null && !/^[a-z0-9_-]+$/.test(deviceClass)) throw bad('deviceClass', 'must be lower-case letters, digits, _ or - (e.g. "ctv").');
  return {
    playbackSessionId: id(body, 'playbackSessionId', true)!,
    contentId: id(body, 'contentId', true)!,
    liveEventId: id(body, 'liveEventId', false),
    breakId: id(body, 'breakId', false),
    breakPosition: position as BreakPosition,
    podMaxDurationMs: integer(body, 'podMaxDurationMs', 1000, MAX_POD_MS),
    podMaxAds: integer(body, 'podMaxAds', 1, MAX_POD_ADS),
    country: country === null ? null : country.toUpperCase(),
    deviceClass,
    device: device(body['device']),
    consent: consent(body['consent']),
  };
}
