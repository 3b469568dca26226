/**
 * The config spec: every key Quartile accepts, its default and its doc. This table IS
 * the configuration reference (`quartile config print --docs` prints it).
 *
 * A key's environment variable is `QUARTILE_` plus its path in SCREAMING_SNAKE_CASE:
 * `http.port` → `QUARTILE_HTTP_PORT`, `schemaRegistry.url` → `QUARTILE_SCHEMA_REGISTRY_URL`.
 */
import { bool, int, list, oneOf, pagePath, str, structured, url, type Field } from './fields.ts';
import { checkCapRules, type CapRuleConfig } from '../ads/caps/cap-rules.ts';
import { checkAdSources, type AdSourceConfig } from '../ads/decision/ad-sources.ts';
import { DEFAULT_PIXEL_VENDORS, checkPixelVendors, checkPurposes, type PixelVendorConfig } from '../../sinks/pixels/config.ts';

/** One producer API key. */
export interface ApiKeyConfig {
  /** Public id, recorded on events as `producer`. */
  readonly id: string;
  /** The secret the producer sends in X-Quartile-Key. */
  readonly key: string;
  /** Sustained events per second. */
  readonly ratePerSec: number;
  /** Events allowed in a burst above the rate. */
  readonly burst: number;
}

function checkApiKeys(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'a list of {id, key, ratePerSec, burst}';
  for (const [i, k] of value.entries()) {
    const entry = k as Partial<ApiKeyConfig>;
    if (typeof entry.id !== 'string' || entry.id === '') return `apiKeys[${i}].id must be a non-empty string`;
    if (typeof entry.key !== 'string' || entry.key.length < 16) return `apiKeys[${i}].key must be a string of at least 16 characters`;
    if (typeof entry.ratePerSec !== 'number' || entry.ratePerSec <= 0) return `apiKeys[${i}].ratePerSec must be a positive number`;
    if (typeof entry.burst !== 'number' || entry.burst < 1) return `apiKeys[${i}].burst must be at least 1`;
  }
  return undefined;
}

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
    topicPrefix: str({ default: '', doc: 'Prefix on every topic name (e.g. "staging."), so deployments can share a Kafka cluster.' }),
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
    maxEntries: int({ default: 5_000_000, min: 1_000, doc: 'Embedded store only: entries kept before the oldest are evicted (those first written longest ago, down to 95% of this many).' }),
  },
  clickhouse: {
    url: url({ schemes: ['http', 'https'], doc: 'ClickHouse HTTP URL. Empty = chDB in-process, in dataDir/chdb.' }),
    database: str({ default: 'quartile', doc: 'Database holding Quartile tables.' }),
    username: str({ default: 'default', doc: 'ClickHouse user.' }),
    password: str({ default: '', secret: true, doc: 'ClickHouse password.' }),
    requestTimeoutMs: int({ default: 30_000, min: 100, doc: 'Timeout of one ClickHouse request.' }),
    batchMaxRows: int({ default: 100_000, min: 1, doc: 'Most rows in one insert of the pipeline. Writes queued while an insert into the same table runs go out together, up to this.' }),
    batchMaxBytes: int({ default: 64 * 1024 * 1024, min: 1024, doc: 'Most bytes (of TabSeparated text) in one insert of the pipeline.' }),
    batchLingerMs: int({
      default: 500,
      min: 0,
      max: 60_000,
      doc: 'Least time between the starts of two inserts of the pipeline into the same table: writes meanwhile go out together, so ClickHouse makes fewer, larger parts. A write into a table idle this long goes out at once, and so does the insert once every partition writing lately has a write queued (nothing more can join). 0: only while an insert into the table runs.',
    }),
  },
  collector: {
    maxEvents: int({ default: 500, min: 1, max: 100_000, doc: 'Most events in one POST /v1/events request (more answers 413).' }),
    maxBodyBytes: int({ default: 1024 * 1024, min: 1024, doc: 'Largest request body after gzip decompression (more answers 413).' }),
    maxEventAgeMs: int({ default: 24 * 3600 * 1000, min: 1000, doc: 'Events whose occurredAt is older than this are rejected as EVENT_TOO_OLD.' }),
    maxClockSkewMs: int({ default: 3600 * 1000, min: 0, doc: 'Events whose occurredAt is further in the future than this are rejected as EVENT_IN_FUTURE.' }),
    countryHeader: str({ default: '', doc: 'Request header set by the trusted edge with the viewer country (e.g. cloudfront-viewer-country); empty = no country. Devices cannot set it.' }),
    lingerMs: int({ default: 5, min: 0, max: 1000, doc: 'How long accepted events wait to be batched with others before the transport send.' }),
    maxBatchRecords: int({ default: 2000, min: 1, doc: 'Most records in one transport send.' }),
    apiKeys: structured<ReadonlyArray<ApiKeyConfig>>({
      default: [],
      secret: true,
      type: 'list of {id, key, ratePerSec, burst}',
      check: checkApiKeys,
      doc: 'Producer API keys (X-Quartile-Key), each with its own token-bucket rate limit. Empty = no keys required.',
    }),
    shedEventLoopLagMs: int({ default: 150, min: 1, doc: 'Event-loop lag (worst over the last second) above which non-critical events are shed.' }),
    hardEventLoopLagMs: int({ default: 1000, min: 1, doc: 'Event-loop lag above which whole requests are refused with 503.' }),
    shedBacklogRecords: int({ default: 20_000, min: 1, doc: 'Records waiting for the transport above which non-critical events are shed.' }),
    hardBacklogRecords: int({ default: 100_000, min: 1, doc: 'Records waiting for the transport above which whole requests are refused with 503.' }),
    shedInFlightBytes: int({ default: 64 * 1024 * 1024, min: 1024, doc: 'Request bytes being processed above which non-critical events are shed.' }),
    hardInFlightBytes: int({ default: 256 * 1024 * 1024, min: 1024, doc: 'Request bytes being processed above which whole requests are refused with 503.' }),
  },
  pipeline: {
    groupId: str({ default: 'quartile-pipeline', doc: 'Consumer group of the pipeline on ads.events.raw; pipeline processes with the same id share partitions.' }),
    partitionsConcurrently: int({ default: 6, min: 1, max: 256, doc: 'Partitions processed at once by one pipeline process.' }),
    maxBatchRecords: int({ default: 2000, min: 1, max: 10_000, doc: 'Most records handled as one batch per partition. Larger batches share the sinks\' waits (a ClickHouse insert, a Redis round trip) among more events: at a surge a partition runs one batch at a time.' }),
    tokenCacheEntries: int({ default: 100_000, min: 0, doc: 'Decrypted tokens cached by token string (every event of an ad, and every viewer of a live break, shares one).' }),
    resolveRetries: int({ default: 3, min: 0, max: 20, doc: 'Times a missing registry entry is looked up again (with a short wait) before the event is dead-lettered.' }),
    resolveRetryDelayMs: int({ default: 200, min: 0, doc: 'Wait between registry look-ups of a missing entry.' }),
    dedupeTtlMs: int({ default: 48 * 3600 * 1000, min: 60_000, doc: 'How long an event id is remembered for deduplication.' }),
    sessionGapMs: int({ default: 120_000, min: 1000, doc: 'Inactivity (event time) after the ad duration that closes an ad session.' }),
    sessionStateTtlMs: int({ default: 24 * 3600 * 1000, min: 60_000, doc: 'How long closed session state is kept, so late events produce corrected sessions.' }),
    allowedLatenessMs: int({ default: 5_000, min: 0, doc: 'How far the watermark trails the newest event time of a partition.' }),
    idleWatermarkMs: int({ default: 30_000, min: 1000, doc: 'On a partition with no events, event time is taken to follow wall-clock time this far behind (processing-time fallback).' }),
    botList: str({ default: '', doc: 'Path of an IAB/ABC spiders & bots list (one pattern per line); empty uses the isbot package.' }),
    hashKeys: str({ default: '', secret: true, doc: 'HMAC keys for identifier hashing as JSON [{"kid","secret","createdAt"}] (newest hashes); empty generates one into dataDir/keys.' }),
  },
  tokens: {
    jwks: str({ default: '', secret: true, doc: 'Token keys as a JWKS JSON string (see `quartile keys generate`). Takes precedence over jwksFile.' }),
    jwksFile: str({ default: '', doc: 'Path of a JWKS file with the token keys. With neither set, keys are generated into dataDir/keys (one process only).' }),
    ttlSeconds: int({ default: 48 * 3600, min: 60, max: 30 * 24 * 3600, doc: 'Token lifetime; events carrying an expired token are dead-lettered.' }),
    binding: oneOf({ default: 'none', values: ['none', 'session'], doc: 'none: one token per ad decision, shareable by every viewer of a live break; session: bound to the playback session.' }),
  },
  ads: {
    sources: structured<ReadonlyArray<AdSourceConfig>>({
      default: [],
      type: 'list of {id, url, timeoutMs?}',
      check: checkAdSources,
      doc: 'VAST tag URL templates, in priority order, fetched concurrently for each decision; IAB macros ([DEVICEIP], [GDPRCONSENT]…) and [QUARTILE_*] macros are filled in.',
    }),
    sourceTimeoutMs: int({ default: 1500, min: 50, max: 60_000, doc: 'Time allowed for one source, wrapper chain included; a late source is left out of the decision.' }),
    requestTimeoutMs: int({ default: 1000, min: 50, max: 60_000, doc: 'Time allowed for each VAST HTTP request.' }),
    maxConcurrentSources: int({ default: 4, min: 1, max: 64, doc: 'Sources fetched at once for one decision or one prefetched cohort.' }),
    wrapperLimit: int({ default: 5, min: 0, max: 10, doc: 'Wrappers followed before giving up with IAB 302 (VAST 4.x recommends 5).' }),
    allowPrivateNetwork: bool({ default: false, doc: 'Fetch VAST and fire Error URIs at loopback and private addresses (tests, on-premises ad servers); off = SSRF guard on.' }),
    fireErrorUris: bool({ default: true, doc: 'Fire the wrappers\' and ads\' Error URIs, with [ERRORCODE], when resolution fails or an ad cannot be played.' }),
    defaultPodMaxAds: int({ default: 5, min: 1, max: 32, doc: 'Most ads in a pod when the decision request does not say.' }),
    defaultPodMaxDurationMs: int({ default: 120_000, min: 1000, max: 3_600_000, doc: 'Longest pod when the decision request does not say.' }),
    mediaTypes: list({
      default: ['video/mp4', 'application/x-mpegURL', 'application/dash+xml', 'video/webm'],
      doc: 'Media MIME types devices play, in order of preference; an ad with none of them is replaced (IAB 403).',
    }),
    capRules: structured<ReadonlyArray<CapRuleConfig>>({
      default: [],
      type: 'list of {scope, max, window, buckets?}',
      check: checkCapRules,
      doc: 'Frequency caps per viewer: scope campaign|lineItem|creative|advertiser, max, window "24h"-style (rolling), "day" (UTC) or "live-event".',
    }),
    capKeySecret: str({ default: '', secret: true, doc: 'HMAC key (base64, ≥ 32 bytes) hashing profile and device ids for caps; empty = generated into dataDir/keys (one machine only).' }),
    serverUserAgent: str({ default: 'Quartile/0.1 (server-side)', doc: 'User-Agent of Quartile\'s server-side requests (VAST fetches, beacons); the device\'s goes in X-Device-User-Agent.' }),
    beaconTimeoutMs: int({ default: 2000, min: 50, max: 60_000, doc: 'Time allowed for one Error URI beacon fired by the Ads Manager (vendor pixels: pixels.timeoutMs).' }),
    maxInFlight: int({ default: 1000, min: 4, doc: 'Decisions in flight at full load: prefetch waits above 50%, VOD is shed above 80%, live breaks above 100%.' }),
    shedPrefetchLagMs: int({ default: 100, min: 1, doc: 'Event-loop lag above which break prefetch waits.' }),
    shedVodLagMs: int({ default: 200, min: 1, doc: 'Event-loop lag above which VOD decisions are shed with 503.' }),
    shedLiveLagMs: int({ default: 500, min: 1, doc: 'Event-loop lag above which live-break decisions are shed with 503.' }),
  },
  live: {
    cohortDimensions: list({ default: ['country', 'deviceClass', 'consent'], doc: 'What a cohort key is made of, in order: country, deviceClass and/or consent.' }),
    cohorts: list({ default: [], doc: 'Cohort keys prefetched for every break, e.g. "US.ctv.personalized"; "*" (every other viewer) is always prefetched.' }),
    prefetchConcurrency: int({ default: 4, min: 1, max: 64, doc: 'Cohorts prefetched at once for one break.' }),
    maxAlternates: int({ default: 8, min: 0, max: 32, doc: 'Buffet ads kept per cohort beside the pod, to replace ads a viewer is capped on.' }),
    planMaxAgeSeconds: int({ default: 30, min: 1, max: 3600, doc: 'Cache-Control max-age of a ready break plan (GET /v1/live/breaks/:breakId).' }),
    retainAfterBreakMs: int({ default: 3_600_000, min: 60_000, doc: 'How long a break plan is kept after the break ends, for late decisions.' }),
    cueGroupId: str({ default: 'quartile-ads-manager', doc: 'Kafka consumer group of the Ads Managers reading live.cues; one member prefetches each cue.' }),
  },
  pixels: {
    enabled: bool({ default: true, doc: 'Fire the vendor beacons (VAST tracking URIs, DV, IAS, Nielsen…) server-side: the pipeline records them on ads.beacons and beacon delivery fires them; off = neither runs.' }),
    deliver: bool({ default: true, doc: 'Pipeline processes also deliver beacons (consume ads.beacons); off = only `quartile start --role pixels` processes do, e.g. to give delivery its own processes or a lower CPU priority.' }),
    groupId: str({ default: 'quartile-pixels', doc: 'Consumer group of beacon delivery on ads.beacons and ads.beacons.retry; delivering processes with the same id share the work.' }),
    vendors: structured<Readonly<Record<string, PixelVendorConfig>>>({
      default: DEFAULT_PIXEL_VENDORS,
      type: 'object of domain → {name, gvlId, concurrency?, tps?}',
      check: checkPixelVendors,
      doc: 'Who a beacon host belongs to (the domain or a subdomain): vendor name and IAB GVL id. Replaces the defaults (DV 126, IAS 278, Nielsen with no id); other hosts are their own vendor with no GVL id.',
    }),
    purposes: structured<readonly number[]>({
      default: [7],
      type: 'list of TCF purpose ids',
      check: checkPurposes,
      doc: 'TCF v2 purposes a vendor needs consent for when GDPR applies (7 = measure ad performance).',
    }),
    allowVendorsWithoutGvlId: bool({ default: false, doc: 'Where GDPR applies, fire beacons of vendors with no GVL id (their consent cannot be checked); off = suppressed.' }),
    ifa: oneOf({ default: 'hashed', values: ['hashed', 'raw', 'withheld'], doc: '[IFA] in beacons: a keyed hash per vendor (IFATYPE ppid), the device IFA as is, or withheld (-2). Limit-ad-tracking always withholds it.' }),
    allowPrivateNetwork: bool({ default: false, doc: 'Fire beacons at loopback and private addresses (tests, on-premises vendors); off = SSRF guard on, redirects included.' }),
    timeoutMs: int({ default: 2000, min: 50, max: 60_000, doc: 'Time allowed for one beacon request, redirects included.' }),
    maxRedirects: int({ default: 3, min: 0, max: 10, doc: 'Redirects followed per beacon, each re-checked by the SSRF guard.' }),
    concurrencyPerDomain: int({ default: 32, min: 1, max: 4096, doc: 'Beacon requests in flight to one vendor domain (a vendors entry may say otherwise).' }),
    tpsPerDomain: int({ default: 5000, min: 1, doc: 'Beacon requests per second to one vendor domain (a vendors entry may say otherwise).' }),
    deadlineMs: int({ default: 3_600_000, min: 1000, doc: 'How long a failing beacon is retried (5xx, 429, timeouts, network) before it is dead-lettered; also the lifetime of its encrypted device context.' }),
    retryBaseMs: int({ default: 1000, min: 1, doc: 'First retry delay; doubles per attempt with full jitter, and a longer Retry-After is honoured.' }),
    retryMaxDelayMs: int({ default: 300_000, min: 10, doc: 'Longest wait between two tries of one beacon.' }),
    breakerFailures: int({ default: 20, min: 1, doc: 'Consecutive failures (5xx, 429, timeouts, network) that open a domain\'s circuit: it is then probed, not hammered.' }),
    breakerCooldownMs: int({ default: 10_000, min: 10, doc: 'How long an open circuit waits before a half-open probe; doubles while probes fail (up to 32×).' }),
    maxPending: int({ default: 200_000, min: 10, doc: 'Beacons one delivering process holds in memory (waiting, backing off or in flight) above which it stops reading more from ads.beacons (and, separately, from ads.beacons.retry).' }),
    maxBacklog: int({ default: 0, min: 0, doc: 'Records on ads.beacons that beacon delivery has not taken yet (a record holds up to 500 events\' beacons) above which the pipeline waits (backpressure). 0 = by transport: 1,000,000 on Kafka (which keeps them on disk), 2,000 on the embedded log (which keeps them in memory).' }),
    queueKey: str({ default: '', secret: true, doc: 'AES-256 key (base64, 32 bytes) encrypting queued device context (IP, user agent, IFA, raw event) on ads.beacons and ads.beacons.retry; empty = generated into dataDir/keys (one machine only).' }),
    outcomeFlushMs: int({ default: 1000, min: 10, doc: 'Least time between two inserts of beacon outcomes into ClickHouse beacon_deliveries; what completes in between goes out together (ClickHouse takes about one insert a second into a table best).' }),
    verificationNotExecuted: bool({ default: true, doc: 'On an impression, fire each verification vendor\'s verificationNotExecuted tracking with [REASON] 2 (server-side: no OM SDK ran).' }),
  },
  admin: {
    token: str({ default: '', secret: true, doc: 'Bearer token for operator actions; empty disables them.' }),
    auditEntries: int({ default: 50, min: 1, max: 10_000, doc: 'Operator actions kept in memory for the Control Room (every action is also logged as an audit line).' }),
  },
  controlRoom: {
    enabled: bool({ default: true, doc: 'Serve the Control Room, the live operator page, and its read-only event stream.' }),
    path: pagePath({ default: '/', doc: 'Where the Control Room page is served; its assets and stream are under /control-room/.' }),
    intervalMs: int({ default: 1000, min: 100, max: 60_000, doc: 'How often the page gets a fresh snapshot of the engine.' }),
    billingEveryMs: int({ default: 5000, min: 1000, max: 600_000, doc: 'Billing totals are read from ClickHouse (billable_impressions FINAL) at most this often.' }),
  },
} as const satisfies SpecGroup;

/** Quartile's validated, frozen configuration. */
export type QuartileConfig = ConfigOf<typeof CONFIG_SPEC>;
