/**
 * Settings of one statement on chDB stay with that statement.
 *
 * Over HTTP, a ClickHouse server takes a request's settings (`clickhouse_settings`:
 * insert_deduplication_token…) for that request only. chDB's connection applies them
 * as `SET name = value` before the statement, on the one session of the data
 * directory, where they stay: after an insert with a deduplication token, every later
 * insert without one (a JSONEachRow insert, an `INSERT … SELECT`, another process's
 * insert through `quartile warehouse serve`) carried the same token, and ClickHouse
 * silently dropped its rows as a retry of the first.
 *
 * So every statement here sends, beside its own settings, every setting an earlier
 * statement set, at its default value. The `SET`s and the statement run as one chDB
 * call, so concurrent statements cannot see each other's settings either.
 */

/** The statements of the Connection contract that take `clickhouse_settings`. */
const STATEMENTS = new Set(['query', 'exec', 'command', 'insert']);

interface StatementParams {
  readonly clickhouse_settings?: Readonly<Record<string, unknown>>;
}

type Run = (params: StatementParams) => Promise<unknown>;

/** `connection`, with each statement's settings scoped to it (see the file header). */
export function scopeChdbSettings<C extends object>(connection: C): C {
  /** Settings some statement set, with their defaults. */
  const sticky = new Map<string, string>();
  /** Default of each setting seen (undefined: not an engine setting; chDB drops those). */
  const defaults = new Map<string, string | undefined>();

  const defaultOf = async (name: string): Promise<string | undefined> => {
    if (defaults.has(name)) return defaults.get(name);
    let found: string | undefined;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      const query = (connection as unknown as { query: (p: { query: string }) => Promise<{ stream: AsyncIterable<Buffer | string> }> }).query.bind(connection);
      const result = await query({ query: `SELECT default FROM system.settings WHERE name = '${name}' FORMAT JSONEachRow` });
      let text = '';
      for await (const chunk of result.stream) text += chunk.toString();
      const line = text.trim();
      found = line === '' ? undefined : (JSON.parse(line) as { default: string }).default;
    }
    defaults.set(name, found);
    return found;
  };

  const scoped = async (params: StatementParams): Promise<StatementParams> => {
    const own = params.clickhouse_settings ?? {};
    for (const [name, value] of Object.entries(own)) {
      if (value === undefined || sticky.has(name)) continue;
      const fallback = await defaultOf(name);
      if (fallback !== undefined) sticky.set(name, fallback);
    }
    if (sticky.size === 0) return params;
    const settings: Record<string, unknown> = {};
    for (const [name, fallback] of sticky) settings[name] = fallback;
    for (const [name, value] of Object.entries(own)) if (value !== undefined) settings[name] = value;
    return { ...params, clickhouse_settings: settings };
  };

  return new Proxy(connection, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      if (typeof property !== 'string' || !STATEMENTS.has(property)) return bound;
      return async (params: StatementParams) => (bound as Run)(await scoped(params));
    },
  });
}
