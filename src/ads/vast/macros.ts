/**
 * IAB VAST macro expansion (VAST 4.x, "Macros"): `[NAME]` in a tracking, error or
 * request URI is replaced by its value, percent-encoded. Shared by the VAST resolver
 * (wrapper request URIs, Error URIs) and, later, the pixels sink.
 */
import { randomInt } from 'node:crypto';
import { IAB_MACROS, type MacroKind } from './macros-list.ts';
import { formatTimecode } from './time.ts';

/**
 * A macro value. `undefined` means unknown and is written `-1`; `null` means
 * deliberately withheld (for example for privacy) and is written `-2` (VAST 4.1 §6.1).
 * Booleans are written 1 and 0; numbers for `timecode` macros are milliseconds.
 */
export type MacroValue = string | number | boolean | readonly (string | number)[] | null | undefined;

/** Macro values by name, upper case as in the URI (`ERRORCODE`, `GDPRCONSENT`…). */
export type MacroValues = Readonly<Record<string, MacroValue>>;

/** Options for {@link expandMacros}; every field has a default. */
export interface ExpandMacrosOptions {
  /** The clock for `[TIMESTAMP]`. Default: the current time. */
  readonly now?: () => Date;
  /** The time zone of `[TIMESTAMP]`, in minutes east of UTC. Default: the host's zone at that instant. */
  readonly utcOffsetMinutes?: number;
}

// IAB macros are upper case, digits and underscores: `[random]` and `[Foo]` are not macros.
const MACRO = /\[([A-Z0-9_]+)\]/g;

/**
 * Replaces every `[MACRO]` of `template`:
 * - a macro named in `values` gets that value, RFC 3986 percent-encoded;
 * - `[CACHEBUSTING]` and `[TIMESTAMP]` are generated when not given;
 * - any other IAB macro with no value becomes `-1`, as the spec asks;
 * - a name that is neither an IAB macro nor in `values` is left as it is.
 */
export function expandMacros(template: string, values: MacroValues = {}, options: ExpandMacrosOptions = {}): string {
  if (template.indexOf('[') === -1) return template;
  return template.replace(MACRO, (whole, name: string) => {
    const kind = Object.hasOwn(IAB_MACROS, name) ? IAB_MACROS[name] : undefined;
    if (Object.hasOwn(values, name)) return formatValue(values[name], kind);
    if (name === 'CACHEBUSTING') return cacheBuster();
    if (name === 'TIMESTAMP') return encodeRfc3986(isoTimestamp(options.now?.() ?? new Date(), options.utcOffsetMinutes));
    return kind === undefined ? whole : UNKNOWN;
  });
}

const UNKNOWN = '-1';
const WITHHELD = '-2';

function formatValue(value: MacroValue, kind: MacroKind | undefined): string {
  if (value === undefined) return UNKNOWN;
  if (value === null) return WITHHELD;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return UNKNOWN;
    return encodeRfc3986(kind === 'timecode' ? formatTimecode(value) : String(value));
  }
  if (typeof value === 'string') return encodeRfc3986(value);
  // A list: each item encoded, the separating commas kept (IAB examples, e.g. MEDIAMIME).
  return value.map((item) => encodeRfc3986(String(item))).join(',');
}

/**
 * Percent-encodes everything but RFC 3986's unreserved characters
 * (ALPHA, DIGIT, `-`, `.`, `_`, `~`); encodeURIComponent alone leaves `!'()*`.
 */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A random 8-digit integer, as `[CACHEBUSTING]` is defined in macros-data.json. */
function cacheBuster(): string {
  return String(randomInt(10_000_000, 100_000_000));
}

/**
 * ISO 8601 with milliseconds and a zone offset, the `[TIMESTAMP]` format
 * `{YYYY-MM-DD}T{HH:MM:SS}.{mmm}{+/-}{ZONEOFFSET}`, e.g. `2016-01-17T08:15:07.127-05:00`.
 */
export function isoTimestamp(date: Date, utcOffsetMinutes = -date.getTimezoneOffset()): string {
  const shifted = new Date(date.getTime() + utcOffsetMinutes * 60_000);
  const sign = utcOffsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(utcOffsetMinutes);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  // toISOString of the shifted instant gives the local wall-clock fields; swap its Z for the zone.
  return `${shifted.toISOString().slice(0, 23)}${zone}`;
}
