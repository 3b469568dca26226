/**
 * Options of the VAST engine: one object, a default on every field, unknown keys
 * refused. Nothing here reads the environment; src/config maps its settings onto it.
 */
import { QuartileError } from '../../core/errors.ts';
import type { MacroValues } from './macros.ts';

/** Options of `parseVast`. */
export interface VastParseOptions {
  /** The largest document accepted, in bytes. Default 1 MiB. */
  readonly maxBytes: number;
}

/** Options of `resolveVast` and `resolveVastDocument`. */
export interface VastResolveOptions extends VastParseOptions {
  /** Milliseconds allowed for each VAST request. Default 1000. */
  readonly timeoutMs: number;
  /** Milliseconds allowed for the whole chain, every request included. Default 3000. */
  readonly deadlineMs: number;
  /** Wrappers followed before giving up with IAB 302; VAST 4.x recommends 5. */
  readonly wrapperLimit: number;
  /** Allow loopback, private, link-local and metadata addresses (SSRF guard off). Default false. */
  readonly allowPrivateNetwork: boolean;
  /** Send the Error URIs of the ads and wrappers involved, with [ERRORCODE] filled in. Default false. */
  readonly fireErrors: boolean;
  /** VAST requests in flight at once within one resolution. Default 4. */
  readonly maxConcurrency: number;
  /** HTTP redirects followed per request. Default 5. */
  readonly maxRedirects: number;
  /** Macro values for wrapper request URIs and fired Error URIs (device IP, consent…). Default none. */
  readonly macros: MacroValues;
  /** Extra headers on every VAST request, e.g. X-Device-IP for server-side requests. Default none. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The defaults. */
export const VAST_DEFAULTS: Readonly<VastResolveOptions> = Object.freeze({
  maxBytes: 1024 * 1024,
  timeoutMs: 1000,
  deadlineMs: 3000,
  wrapperLimit: 5,
  allowPrivateNetwork: false,
  fireErrors: false,
  maxConcurrency: 4,
  maxRedirects: 5,
  macros: Object.freeze({}),
  headers: Object.freeze({}),
});

type Check = (value: unknown) => boolean;
const nonNegativeInt: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const positiveInt: Check = (v) => Number.isInteger(v) && (v as number) > 0;
const isBoolean: Check = (v) => typeof v === 'boolean';
const isRecord: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

const CHECKS: Readonly<Record<keyof VastResolveOptions, readonly [Check, string]>> = {
  maxBytes: [positiveInt, 'a positive integer'],
  timeoutMs: [positiveInt, 'a positive integer'],
  deadlineMs: [positiveInt, 'a positive integer'],
  wrapperLimit: [nonNegativeInt, 'a non-negative integer'],
  allowPrivateNetwork: [isBoolean, 'a boolean'],
  fireErrors: [isBoolean, 'a boolean'],
  maxConcurrency: [positiveInt, 'a positive integer'],
  maxRedirects: [nonNegativeInt, 'a non-negative integer'],
  macros: [isRecord, 'an object of macro values'],
  headers: [isRecord, 'an object of header values'],
};

/**
 * The defaults with `overrides` applied, frozen. Throws VAST_INVALID_OPTIONS naming the
 * key when a key is unknown or a value has the wrong type: that is a bug in the caller.
 */
export function vastOptions(overrides: Partial<VastResolveOptions> = {}): Readonly<VastResolveOptions> {
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(CHECKS, key)) {
      throw new QuartileError('VAST_INVALID_OPTIONS', `Unknown VAST option "${key}"; known: ${Object.keys(CHECKS).join(', ')}.`);
    }
    if (value === undefined) continue;
    const [check, expected] = CHECKS[key as keyof VastResolveOptions];
    if (!check(value)) throw new QuartileError('VAST_INVALID_OPTIONS', `VAST option "${key}" must be ${expected}, not ${JSON.stringify(value)}.`);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return Object.freeze({ ...VAST_DEFAULTS, ...defined });
}
