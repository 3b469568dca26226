/**
 * Field constructors for the config spec. A field is its own documentation: it has
 * a default, a one-line doc, and a parser that turns a file value or an environment
 * string into a typed value or explains what is wrong with it.
 */

/** One config field. `T` is the type of its validated value. */
export interface Field<T> {
  readonly default: T;
  readonly doc: string;
  /** Secrets are redacted by `quartile config print` and in logs. */
  readonly secret: boolean;
  /** A short type description for docs, e.g. `integer 1..65535`. */
  readonly type: string;
  /**
   * Parses a value from a config file (any JSON/YAML value) or from an environment
   * variable (a string). Returns the value or a message saying what was expected.
   */
  parse(raw: unknown): { ok: true; value: T } | { ok: false; expected: string };
}

interface Common {
  readonly doc: string;
  readonly secret?: boolean;
}

/** A free string. */
export function str(options: Common & { readonly default: string }): Field<string> {
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: 'string',
    parse: (raw) => (typeof raw === 'string' ? { ok: true, value: raw } : { ok: false, expected: 'a string' }),
  };
}

/** An optional URL (empty string = unset, meaning "use the embedded backend"). */
export function url(options: Common & { readonly default?: string; readonly schemes: readonly string[] }): Field<string> {
  const schemes = options.schemes;
  return {
    default: options.default ?? '',
    doc: options.doc,
    secret: options.secret ?? false,
    type: `${schemes.join('|')} URL`,
    parse: (raw) => {
      if (typeof raw !== 'string') return { ok: false, expected: 'a URL string' };
      if (raw === '') return { ok: true, value: '' };
      try {
        const parsed = new URL(raw);
        if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) {
          return { ok: false, expected: `a URL with scheme ${schemes.join(' or ')}` };
        }
        return { ok: true, value: raw };
      } catch {
        return { ok: false, expected: `a URL such as ${schemes[0]}://127.0.0.1` };
      }
    },
  };
}

/** An integer within bounds. Environment strings are parsed strictly (no `12abc`). */
export function int(options: Common & { readonly default: number; readonly min?: number; readonly max?: number }): Field<number> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const expected = `an integer from ${min} to ${max}`;
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: options.max === undefined ? (options.min === undefined ? 'integer' : `integer ≥ ${min}`) : `integer ${min}..${max}`,
    parse: (raw) => {
      const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        return { ok: false, expected };
      }
      return { ok: true, value };
    },
  };
}

/** A boolean; environment strings `true/false/1/0/yes/no` are accepted. */
export function bool(options: Common & { readonly default: boolean }): Field<boolean> {
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: 'boolean',
    parse: (raw) => {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (typeof raw === 'string') {
        const v = raw.trim().toLowerCase();
        if (['true', '1', 'yes'].includes(v)) return { ok: true, value: true };
        if (['false', '0', 'no'].includes(v)) return { ok: true, value: false };
      }
      return { ok: false, expected: 'true or false' };
    },
  };
}

/** One of a fixed set of words. */
export function oneOf<const W extends string>(
  options: Common & { readonly default: W; readonly values: readonly W[] },
): Field<W> {
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: options.values.join('|'),
    parse: (raw) =>
      typeof raw === 'string' && (options.values as readonly string[]).includes(raw)
        ? { ok: true, value: raw as W }
        : { ok: false, expected: `one of ${options.values.join(', ')}` },
  };
}

/** A list of strings; environment strings are comma-separated. */
export function list(options: Common & { readonly default: readonly string[] }): Field<readonly string[]> {
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: 'list of strings (comma-separated in the environment)',
    parse: (raw) => {
      if (typeof raw === 'string') {
        return { ok: true, value: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
      }
      if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return { ok: true, value: raw as string[] };
      return { ok: false, expected: 'a list of strings' };
    },
  };
}

/**
 * A structured value (rules, sources, keys). Environment strings are parsed as JSON.
 * `check` validates the parsed value and returns a message when it is wrong.
 */
export function structured<T>(
  options: Common & { readonly default: T; readonly type: string; readonly check: (value: unknown) => string | undefined },
): Field<T> {
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: options.type,
    parse: (raw) => {
      let value = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          return { ok: false, expected: `JSON: ${options.type}` };
        }
      }
      const problem = options.check(value);
      return problem === undefined ? { ok: true, value: value as T } : { ok: false, expected: problem };
    },
  };
}

/** Paths the engine itself serves, which a configurable page must not take over. */
const RESERVED_PATHS = ['/healthz', '/readyz', '/metrics'];
const RESERVED_PREFIXES = ['/v1/', '/control-room/'];

/** An HTTP path for a page the engine serves, e.g. `/` or `/ops`. */
export function pagePath(options: Common & { readonly default: string }): Field<string> {
  const expected = 'a path such as / or /ops (no query, not /v1/…, /control-room/…, /healthz, /readyz or /metrics)';
  return {
    default: options.default,
    doc: options.doc,
    secret: options.secret ?? false,
    type: 'URL path',
    parse: (raw) => {
      if (typeof raw !== 'string' || !/^\/[A-Za-z0-9._~\/-]*$/.test(raw)) return { ok: false, expected };
      const path = raw.trim();
      if (RESERVED_PATHS.includes(path) || RESERVED_PREFIXES.some((p) => `${path}/`.startsWith(p))) return { ok: false, expected };
      return { ok: true, value: path };
    },
  };
}
