/**
 * The config spec: every key Quartile accepts, its default and its doc. This table IS
 * the configuration reference (`quartile config print --docs` prints it).
 *
 * A key's environment variable is `QUARTILE_` plus its path in SCREAMING_SNAKE_CASE:
 * `http.port` → `QUARTILE_HTTP_PORT`, `schemaRegistry.url` → `QUARTILE_SCHEMA_REGISTRY_URL`.
 */
import { bool, int, list, oneOf, str, url, type Field } from './fields.ts';

/** A nested group of fields. */
export interface SpecGroup {
  readonly [key: string]: Field<unknown> | SpecGroup;
}

/** The validated config type that a spec describes. */
export type ConfigOf<S> = {
  readonly [K in keyof S]: S[K] extends Field<infer T> ? T : ConfigOf<S[K]>;
};

export const CONFIG_SPEC = {
  dataDir: str({
    default: './.quartile',
    doc: 'Where embedded data lives (the chDB warehouse); one process owns it at a time.',
  }),
  logLevel: oneOf({
    default: 'info',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    doc: 'pino log level.',
  }),
  http: {
    host: str({ default: '127.0.0.1', doc: 'Address the HTTP server binds to.' }),
    port: int({ default: 8080, min: 0, max: 65535, doc: 'HTTP port for the APIs, /healthz, /readyz and /metrics (0 = any free port).' }),
    shutdownGraceMs: int({ default: 10_000, min: 0, doc: 'How long a graceful stop waits for in-flight work before forcing the exit.' }),
  },
  kafka: {
    brokers: list({ default: [], doc: 'Kafka bootstrap brokers (host:port). Empty = the embedded in-process log.' }),
    clientId: str({ default: 'quartile', doc: 'Kafka client id, visible in broker logs and quotas.' }),
    partitions: int({ default: 6, min: 1, max: 1024, doc: 'Partitions for topics Quartile creates (raw events, enriched, sessions…).' }),
    replicationFactor: int({ default: 1, min: 1, max: 16, doc: 'Replication factor for topics Quartile creates.' }),
    connectionTimeoutMs: int({ default: 3_000, min: 100, doc: 'Kafka connection timeout.' }),
    sasl: {
      username: str({ default: '', doc: 'SASL/PLAIN username; empty disables SASL.' }),
      password: str({ default: '', secret: true, doc: 'SASL/PLAIN password.' }),
    },
    ssl: bool({ default: false, doc: 'Use TLS to the brokers.' }),
  },
  schemaRegistry: {
    url: url({
      schemes: ['http', 'https'],
      doc: 'Confluent-compatible schema registry URL (Apicurio: …/apis/ccompat/v7). Empty = Avro single-object framing.',
    }),
    username: str({ default: '', doc: 'Schema registry basic-auth user.' }),
    password: str({ default: '', secret: true, doc: 'Schema registry basic-auth password.' }),
  },
  redis: {
    url: url({ schemes: ['redis', 'rediss'], secret: true, doc: 'Redis URL for state. Empty = the embedded in-memory store. May hold a password, so it is redacted.' }),
    keyPrefix: str({ default: 'q:', doc: 'Prefix on every Redis key, so Quartile can share a Redis.' }),
  },
  state: {
    maxEntries: int({ default: 5_000_000, min: 1_000, doc: 'Embedded store only: entries kept before the least recently written are evicted.' }),
  },
  clickhouse: {
    url: url({ schemes: ['http', 'https'], doc: 'ClickHouse HTTP URL. Empty = chDB in-process, in dataDir/chdb.' }),
    database: str({ default: 'quartile', doc: 'Database holding Quartile tables.' }),
    username: str({ default: 'default', doc: 'ClickHouse user.' }),
    password: str({ default: '', secret: true, doc: 'ClickHouse password.' }),
    requestTimeoutMs: int({ default: 30_000, min: 100, doc: 'Timeout of one ClickHouse request.' }),
  },
  admin: {
    token: str({ default: '', secret: true, doc: 'Bearer token for operator actions; empty disables them.' }),
  },
} as const satisfies SpecGroup;

/** Quartile's validated, frozen configuration. */
export type QuartileConfig = ConfigOf<typeof CONFIG_SPEC>;
