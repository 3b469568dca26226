/**
 * Validates one event from a POST /v1/events body and turns it into an AdEvent. Each
 * event is judged on its own: a bad one is rejected with a stable code and a message
 * that names the field, and never affects its neighbours.
 *
 * Hand-written rather than schema-driven: it runs for every event at intake rates of
 * tens of thousands per second, and its messages are written for the device teams
 * who read them.
 */
import type { AdEvent, App, Consent, Device, EventType, LiveContext } from '../../schemas/types.ts';
import { EventTypeValues } from '../../schemas/types.ts';
import type { ReasonCode } from '../core/reason-codes.ts';

/** Why an event was refused. */
export interface EventRejection {
  readonly code: ReasonCode;
  readonly message: string;
}

/** What the collector knows about the request, beyond the event body. */
export interface IntakeContext {
  readonly now: number;
  readonly maxEventAgeMs: number;
  readonly maxClockSkewMs: number;
  /** The caller's address (used when the event has no device.ip, or the caller is not a trusted producer). */
  readonly requestIp: string | null;
  /** The request's User-Agent (used when the event has no device.userAgent). */
  readonly requestUserAgent: string | null;
  /** Trusted server-side producers (API key holders) may report device.ip for their devices. */
  readonly trustedProducer: boolean;
  readonly producer: string | null;
  readonly country: string | null;
}

const EVENT_TYPES = new Set<string>(EventTypeValues);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOP_LEVEL = new Set(['eventId', 'eventType', 'token', 'playbackSessionId', 'adInstanceId', 'occurredAt', 'adPlayheadMs', 'errorCode', 'device', 'consent', 'live', 'app']);
const COLLECTOR_SET = new Set(['receivedAt', 'country', 'producer']);
const DEVICE_FIELDS = ['ip', 'userAgent', 'ifa', 'ifaType', 'deviceId', 'profileId'] as const;
const CONSENT_FIELDS = new Set(['gdprApplies', 'tcf', 'gpp', 'gppSid', 'limitAdTracking']);
const LIVE_FIELDS = new Set(['liveEventId', 'breakId']);
const APP_FIELDS = new Set(['name', 'version']);

/** Longest accepted string per field (tokens are budgeted at 350 bytes; 2 KiB leaves room). */
const MAX_LENGTH = {
  token: 2048,
  playbackSessionId: 128,
  adInstanceId: 128,
  userAgent: 1024,
  tcf: 4096,
  gpp: 4096,
} as const;
const DEFAULT_MAX_LENGTH = 256;

/** The limit of a field, by its last path segment. */
function maxLength(field: string): number {
  return (MAX_LENGTH as Readonly<Record<string, number>>)[field] ?? DEFAULT_MAX_LENGTH;
}

// Paths and limits of the device fields, computed once: this runs for every event.
const DEVICE_KNOWN: ReadonlySet<string> = new Set(DEVICE_FIELDS);
const DEVICE_SPECS = DEVICE_FIELDS.map((field) => ({ field, path: `device.${field}`, max: maxLength(field) }));

class Rejected extends Error {
  constructor(
    readonly code: ReasonCode,
    message: string,
  ) {
    super(message);
  }
}

function reject(code: ReasonCode, message: string): never {
  throw new Rejected(code, message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function string(value: unknown, path: string, required: true, max?: number): string;
function string(value: unknown, path: string, required: false, max?: number): string | null;
function string(value: unknown, path: string, required: boolean, max = DEFAULT_MAX_LENGTH): string | null {
  if (value === undefined || value === null) {
    if (required) reject('EVENT_MISSING_FIELD', `${path} is required.`);
    return null;
  }
  if (typeof value !== 'string') reject('EVENT_BAD_TYPE', `${path} must be a string, not ${typeName(value)}.`);
  if (required && value.length === 0) reject('EVENT_MISSING_FIELD', `${path} must not be empty.`);
  if (value.length > max) reject('EVENT_TOO_LONG', `${path} is ${value.length} characters; the limit is ${max}.`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') reject('EVENT_BAD_TYPE', `${path} must be a number, not ${typeName(value)}.`);
  if (!Number.isInteger(value) || value < min || value > max) reject('EVENT_BAD_VALUE', `${path} must be an integer from ${min} to ${max}.`);
  return value;
}

function boolean(value: unknown, path: string): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') reject('EVENT_BAD_TYPE', `${path} must be true or false, not ${typeName(value)}.`);
  return value;
}

function onlyKnown(object: Record<string, unknown>, allowed: ReadonlySet<string>, path: string): void {
  for (const key in object) {
    if (!allowed.has(key)) reject('EVENT_UNKNOWN_FIELD', `${path}${key} is not an AdEvent field.`);
  }
}

function section(value: unknown, path: string): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) reject('EVENT_BAD_TYPE', `${path} must be an object, not ${typeName(value)}.`);
  return value;
}

/** occurredAt as epoch ms: an integer, or an ISO 8601 string with a time zone. */
function timestamp(value: unknown, ctx: IntakeContext): number {
  let ms: number;
  if (value === undefined || value === null) reject('EVENT_MISSING_FIELD', 'occurredAt is required (epoch milliseconds or ISO 8601).');
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value <= 0) reject('EVENT_BAD_VALUE', 'occurredAt must be a positive integer of epoch milliseconds.');
    ms = value;
  } else if (typeof value === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(value)) reject('EVENT_BAD_VALUE', 'occurredAt must be ISO 8601 with a time zone, e.g. 2026-11-25T20:00:00.000Z.');
    ms = Date.parse(value);
    if (Number.isNaN(ms)) reject('EVENT_BAD_VALUE', `occurredAt "${value}" is not a valid date.`);
  } else {
    reject('EVENT_BAD_TYPE', `occurredAt must be a number or an ISO 8601 string, not ${typeName(value)}.`);
  }
  if (ms < ctx.now - ctx.maxEventAgeMs) reject('EVENT_TOO_OLD', `occurredAt is ${Math.round((ctx.now - ms) / 1000)} s in the past; events older than ${ctx.maxEventAgeMs / 1000} s are not accepted.`);
  if (ms > ctx.now + ctx.maxClockSkewMs) reject('EVENT_IN_FUTURE', `occurredAt is ${Math.round((ms - ctx.now) / 1000)} s in the future; check the device clock (allowed skew ${ctx.maxClockSkewMs / 1000} s).`);
  return ms;
}

function device(value: unknown, ctx: IntakeContext): Device {
  const d = section(value, 'device') ?? {};
  onlyKnown(d, DEVICE_KNOWN, 'device.');
  const out: Record<string, string | null> = {};
  for (const spec of DEVICE_SPECS) out[spec.field] = string(d[spec.field], spec.path, false, spec.max);
  // Only a trusted producer (API key holder) reports an address for someone else;
  // a device's own request address is the one the collector saw.
  if (out['ip'] === null || !ctx.trustedProducer) out['ip'] = ctx.requestIp;
  if (out['userAgent'] === null) out['userAgent'] = ctx.requestUserAgent;
  return out as unknown as Device;
}

function consent(value: unknown): Consent {
  const c = section(value, 'consent') ?? {};
  onlyKnown(c, CONSENT_FIELDS, 'consent.');
  let gppSid: number[] = [];
  if (c['gppSid'] !== undefined && c['gppSid'] !== null) {
    const raw = c['gppSid'];
    // GPP section ids arrive as a list of integers or as the "2,6" string of the macro.
    const list = typeof raw === 'string' ? raw.split(',').filter((s) => s !== '').map(Number) : raw;
    if (!Array.isArray(list) || !list.every((n) => Number.isInteger(n) && n >= 0 && n < 1000)) {
      reject('EVENT_BAD_VALUE', 'consent.gppSid must be a list of GPP section ids, e.g. [2, 6] or "2,6".');
    }
    gppSid = list as number[];
  }
  return {
    gdprApplies: boolean(c['gdprApplies'], 'consent.gdprApplies'),
    tcf: string(c['tcf'], 'consent.tcf', false, MAX_LENGTH.tcf),
    gpp: string(c['gpp'], 'consent.gpp', false, MAX_LENGTH.gpp),
    gppSid,
    limitAdTracking: boolean(c['limitAdTracking'], 'consent.limitAdTracking') ?? false,
  };
}

function live(value: unknown): LiveContext | null {
  const l = section(value, 'live');
  if (l === null) return null;
  onlyKnown(l, LIVE_FIELDS, 'live.');
  return { liveEventId: string(l['liveEventId'], 'live.liveEventId', true), breakId: string(l['breakId'], 'live.breakId', false) };
}

function app(value: unknown): App | null {
  const a = section(value, 'app');
  if (a === null) return null;
  onlyKnown(a, APP_FIELDS, 'app.');
  return { name: string(a['name'], 'app.name', true), version: string(a['version'], 'app.version', false) };
}

/** Validates one event. Returns the AdEvent to publish, or why it was refused. */
export function validateEvent(input: unknown, ctx: IntakeContext): { ok: true; event: AdEvent } | { ok: false; rejection: EventRejection } {
  try {
    if (!isObject(input)) reject('EVENT_NOT_OBJECT', `Each event must be a JSON object, not ${typeName(input)}.`);
    for (const key in input) {
      if (TOP_LEVEL.has(key)) continue;
      if (COLLECTOR_SET.has(key)) reject('EVENT_UNKNOWN_FIELD', `${key} is set by the collector, not by the sender; remove it from the event.`);
      reject('EVENT_UNKNOWN_FIELD', `${key} is not an AdEvent field.`);
    }
    const eventId = string(input['eventId'], 'eventId', true);
    if (!UUID.test(eventId)) reject('EVENT_BAD_ID', 'eventId must be a UUID made by the device (the same one on every retry of the event).');
    const eventType = string(input['eventType'], 'eventType', true);
    if (!EVENT_TYPES.has(eventType)) reject('EVENT_UNKNOWN_EVENT_TYPE', `eventType "${eventType}" is not one of ${EventTypeValues.join(', ')}.`);
    const event: AdEvent = {
      eventId: eventId.toLowerCase(),
      eventType: eventType as EventType,
      token: string(input['token'], 'token', true, MAX_LENGTH.token),
      playbackSessionId: string(input['playbackSessionId'], 'playbackSessionId', true, MAX_LENGTH.playbackSessionId),
      adInstanceId: string(input['adInstanceId'], 'adInstanceId', true, MAX_LENGTH.adInstanceId),
      occurredAt: timestamp(input['occurredAt'], ctx),
      receivedAt: ctx.now,
      adPlayheadMs: integer(input['adPlayheadMs'], 'adPlayheadMs', 0, 24 * 3600 * 1000),
      errorCode: integer(input['errorCode'], 'errorCode', 100, 999),
      device: device(input['device'], ctx),
      consent: consent(input['consent']),
      live: live(input['live']),
      country: ctx.country,
      app: app(input['app']),
      producer: ctx.producer,
    };
    if (event.eventType === 'error' && event.errorCode === null) {
      reject('EVENT_MISSING_FIELD', 'errorCode is required on error events (the VAST error code, 100–999).');
    }
    return { ok: true, event };
  } catch (error) {
    if (error instanceof Rejected) return { ok: false, rejection: { code: error.code, message: error.message } };
    throw error;
  }
}
