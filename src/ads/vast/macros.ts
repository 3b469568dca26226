/**
 * IAB VAST macro expansion (VAST 4.x, "Macros"): `[NAME]` in a tracking, error or
 * request URI is replaced by its value, percent-encoded. Shared by the VAST resolver
 * (wrapper request URIs, Error URIs) and the pixels sink, which compiles each vendor
 * template once ({@link MacroTemplate}) and expands it for every beacon.
 */
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
 * Macro values in layers, the first that has a name winning: a beacon's own values
 * over its event's, without merging them into a new object for every beacon.
 */
export type MacroLayers = readonly MacroValues[];

/**
 * A template split once into its text and its `[MACRO]`s, then expanded as often as
 * needed (a vendor's beacon template is expanded for every impression). Expands
 * exactly as {@link expandMacros} does.
 */
export class MacroTemplate {
  /** Text and macro names alternating: text, name, text, name, …, text. */
  readonly #parts: readonly string[];
  /** The IAB kind of each macro of #parts, at the same index, looked up once. */
  readonly #kinds: ReadonlyArray<MacroKind | undefined>;

  constructor(template: string) {
    const parts: string[] = [];
    const kinds: Array<MacroKind | undefined> = [];
    let from = 0;
    for (const match of template.matchAll(MACRO)) {
      const name = match[1]!;
      parts.push(template.slice(from, match.index), name);
      kinds.push(undefined, kindOf(name));
      from = match.index + match[0].length;
    }
    parts.push(template.slice(from));
    kinds.push(undefined);
    this.#parts = parts;
    this.#kinds = kinds;
  }

  /** The template with every macro replaced, from `values` (one object or layers). */
  expand(values: MacroValues | MacroLayers = {}, options: ExpandMacrosOptions = {}): string {
    const parts = this.#parts;
    if (parts.length === 1) return parts[0]!;
    const layers: MacroLayers = isLayers(values) ? values : [values];
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) out += macroText(parts[i]!, this.#kinds[i], layers, options) + parts[i + 1]!;
    return out;
  }
}

function kindOf(name: string): MacroKind | undefined {
  return Object.hasOwn(IAB_MACROS, name) ? IAB_MACROS[name] : undefined;
}

function isLayers(values: MacroValues | MacroLayers): values is MacroLayers {
  return Array.isArray(values);
}

/**
 * Replaces every `[MACRO]` of `template`:
 * - a macro named in `values` gets that value, RFC 3986 percent-encoded;
 * - `[CACHEBUSTING]` and `[TIMESTAMP]` are generated when not given;
 * - any other IAB macro with no value becomes `-1`, as the spec asks;
 * - a name that is neither an IAB macro nor in `values` is left as it is.
 *
 * `values` may be layers: the first layer that has a name gives its value.
 */
export function expandMacros(template: string, values: MacroValues | MacroLayers = {}, options: ExpandMacrosOptions = {}): string {
  if (template.indexOf('[') === -1) return template;
  return new MacroTemplate(template).expand(values, options);
}

function macroText(name: string, kind: MacroKind | undefined, layers: MacroLayers, options: ExpandMacrosOptions): string {
  for (const layer of layers) if (Object.hasOwn(layer, name)) return Object.isFrozen(layer) ? frozenText(layer, name, kind) : formatValue(layer[name], kind);
  if (name === 'CACHEBUSTING') return cacheBuster();
  if (name === 'TIMESTAMP') return options.now === undefined && options.utcOffsetMinutes === undefined ? timestampNow() : encodeRfc3986(isoTimestamp(options.now?.() ?? new Date(), options.utcOffsetMinutes));
  return kind === undefined ? `[${name}]` : UNKNOWN;
}

/**
 * The text of a macro of a frozen layer, encoded once however many URIs it goes into.
 * A frozen layer cannot change, so its texts can be kept: the pixels sink freezes an
 * event's values (user agent, consent strings…), which all its vendors' beacons share.
 */
const frozenTexts = new WeakMap<MacroValues, Map<string, string>>();
function frozenText(layer: MacroValues, name: string, kind: MacroKind | undefined): string {
  let texts = frozenTexts.get(layer);
  if (texts === undefined) frozenTexts.set(layer, (texts = new Map()));
  let text = texts.get(name);
  if (text === undefined) texts.set(name, (text = formatValue(layer[name], kind)));
  return text;
}

// [TIMESTAMP] has millisecond precision: beacons fired within one millisecond share its text.
let timestampMs = Number.NaN;
let timestampText = '';
function timestampNow(): string {
  const now = Date.now();
  if (now !== timestampMs) {
    timestampMs = now;
    timestampText = encodeRfc3986(isoTimestamp(new Date(now)));
  }
  return timestampText;
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

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

/**
 * Percent-encodes everything but RFC 3986's unreserved characters
 * (ALPHA, DIGIT, `-`, `.`, `_`, `~`); encodeURIComponent alone leaves `!'()*`.
 */
export function encodeRfc3986(value: string): string {
  if (UNRESERVED.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A random 8-digit integer, as `[CACHEBUSTING]` is defined in macros-data.json. It
 * defeats caches, it guards nothing: Math.random is enough, and much cheaper than
 * crypto's randomInt at thousands of beacons a second.
 */
function cacheBuster(): string {
  return String(10_000_000 + Math.floor(Math.random() * 90_000_000));
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
