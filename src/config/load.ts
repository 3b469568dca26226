/**
 * Builds the one validated, frozen config: defaults, then an optional file (JSON or
 * YAML), then `QUARTILE_*` environment variables. This is the only module that reads
 * `process.env`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { QuartileError } from '../core/errors.ts';
import { CONFIG_SPEC, type QuartileConfig, type SpecGroup } from './spec.ts';
import type { Field } from './fields.ts';

/** Environment variables with the QUARTILE_ prefix that are not config keys. */
const NON_CONFIG_VARIABLES = new Set(['QUARTILE_CONFIG']);
/** Prefixes reserved for tooling (tests, CI scripts), never read as config. */
const NON_CONFIG_PREFIXES = ['QUARTILE_TEST_', 'QUARTILE_CI_', 'QUARTILE_BENCH_'];

/** Where config comes from; every part is optional. */
export interface ConfigSources {
  /** A JSON or YAML file path. Defaults to `QUARTILE_CONFIG` when set. */
  readonly file?: string | undefined;
  /** Environment to read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values applied last, e.g. from CLI flags or tests, using the nested key shape. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** One leaf of the spec with its dotted path and environment variable. */
export interface FieldEntry {
  readonly path: string;
  readonly envVar: string;
  readonly field: Field<unknown>;
}

function isField(node: Field<unknown> | SpecGroup): node is Field<unknown> {
  return typeof (node as Field<unknown>).parse === 'function';
}

/** `schemaRegistry.url` → `QUARTILE_SCHEMA_REGISTRY_URL`. */
export function envVarFor(path: string): string {
  return `QUARTILE_${path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}

/** Every field of the spec, depth first, in declaration order. */
export function fieldEntries(spec: SpecGroup = CONFIG_SPEC, prefix = ''): FieldEntry[] {
  const out: FieldEntry[] = [];
  for (const [key, node] of Object.entries(spec)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isField(node)) out.push({ path, envVar: envVarFor(path), field: node });
    else out.push(...fieldEntries(node, path));
  }
  return out;
}

function invalid(path: string, source: string, expected: string): QuartileError {
  return new QuartileError('CONFIG_INVALID_VALUE', `Config key "${path}" (from ${source}) must be ${expected}. Correct it there, or remove it to use the default (\`quartile config print --docs\` describes every key).`);
}

/** Walks a nested object from a file or overrides, applying each leaf; unknown keys throw. */
function applyTree(
  values: Map<string, unknown>,
  byPath: ReadonlyMap<string, FieldEntry>,
  tree: unknown,
  source: string,
  prefix = '',
): void {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    throw new QuartileError('CONFIG_INVALID_VALUE', `Config ${source} must hold an object${prefix === '' ? '' : ` at "${prefix}"`}: keys and values such as {"http": {"port": 8080}}.`);
  }
  for (const [key, raw] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const entry = byPath.get(path);
    if (entry !== undefined) {
      const parsed = entry.field.parse(raw);
      if (!parsed.ok) throw invalid(path, source, parsed.expected);
      values.set(path, parsed.value);
      continue;
    }
    const isGroup = [...byPath.keys()].some((p) => p.startsWith(`${path}.`));
    if (!isGroup) {
      throw new QuartileError('CONFIG_UNKNOWN_KEY', `Unknown config key "${path}" in ${source}. Run \`quartile config print --docs\` for the keys Quartile knows.`);
    }
    applyTree(values, byPath, raw, source, path);
  }
}

function readFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new QuartileError('CONFIG_FILE_UNREADABLE', `Cannot read config file ${file}: check the path given by --config or QUARTILE_CONFIG.`, { cause });
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new QuartileError('CONFIG_FILE_UNREADABLE', `Config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(cause as Error).message}. Fix it where the parser says, then run the command again.`, { cause });
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node = (node[part] ??= {}) as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Loads the config. Throws a QuartileError with code CONFIG_UNKNOWN_KEY or
 * CONFIG_INVALID_VALUE naming the offending key and where it came from.
 */
export function loadConfig(sources: ConfigSources = {}): QuartileConfig {
  const env = sources.env ?? process.env;
  const entries = fieldEntries();
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const byEnv = new Map(entries.map((e) => [e.envVar, e]));
  const values = new Map<string, unknown>(entries.map((e) => [e.path, e.field.default]));

  const file = sources.file ?? env['QUARTILE_CONFIG'];
  if (file !== undefined && file !== '') applyTree(values, byPath, readFile(file), `file ${file}`);

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('QUARTILE_') || raw === undefined) continue;
    if (NON_CONFIG_VARIABLES.has(name) || NON_CONFIG_PREFIXES.some((p) => name.startsWith(p))) continue;
    const entry = byEnv.get(name);
    if (entry === undefined) {
      throw new QuartileError('CONFIG_UNKNOWN_KEY', `Unknown config variable ${name}. Run \`quartile config print --docs\` for the variables Quartile knows.`);
    }
    const parsed = entry.field.parse(raw);
    if (!parsed.ok) throw invalid(entry.path, `environment variable ${name}`, parsed.expected);
    values.set(entry.path, parsed.value);
  }

  if (sources.overrides !== undefined) applyTree(values, byPath, sources.overrides, 'overrides');

  const config: Record<string, unknown> = {};
  for (const [path, value] of values) setPath(config, path, value);
  return deepFreeze(config) as QuartileConfig;
}

/** The config as a plain object with every secret that is set replaced by `***`. */
export function redactedConfig(config: QuartileConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of fieldEntries()) {
    let value: unknown = config;
    for (const part of entry.path.split('.')) value = (value as Record<string, unknown>)[part];
    const redact = entry.field.secret && value !== '' && value !== undefined;
    setPath(out, entry.path, redact ? redactValue(value) : value);
  }
  return out;
}

/** Keeps a URL's shape (scheme, host) but hides credentials; hides other secrets whole. */
function redactValue(value: unknown): string {
  if (typeof value === 'string') {
    try {
      const parsed = new URL(value);
      if (parsed.host !== '') {
        if (parsed.password !== '') parsed.password = '***';
        if (parsed.username !== '' && parsed.password === '') parsed.username = '***';
        return parsed.toString();
      }
    } catch {
      // Not a URL: hide all of it.
    }
  }
  return '***';
}
