/**
 * Every stable reason code Quartile emits, in one place, with the sentence a user
 * reads when it appears. Codes are SCREAMING_SNAKE_CASE and prefixed with their stage;
 * once published they never change meaning (dashboards and replays select on them).
 *
 * Add new codes to the section of the stage that emits them.
 */
export const REASON_CODES = {
  // --- config -------------------------------------------------------------------
  CONFIG_UNKNOWN_KEY: 'A config file or QUARTILE_* variable names a key Quartile does not know.',
  CONFIG_INVALID_VALUE: 'A config value has the wrong type or is out of range.',
  CONFIG_FILE_UNREADABLE: 'The config file could not be read or parsed.',

  // --- transport (event log) ---------------------------------------------------
  TRANSPORT_UNAVAILABLE: 'The event log (Kafka or the embedded log) cannot be reached.',
  TRANSPORT_UNKNOWN_TOPIC: 'The topic does not exist; run `quartile topics create`.',
  TRANSPORT_CLOSED: 'The transport was used after it was closed.',
  TRANSPORT_REBALANCING: 'The consumer group is rebalancing; the operation can be retried.',

  // --- state -----------------------------------------------------------------------
  STATE_UNAVAILABLE: 'The state store (Redis or the embedded store) cannot be reached.',
  STATE_CLOSED: 'The state store was used after it was closed.',

  // --- warehouse -------------------------------------------------------------------
  WAREHOUSE_UNAVAILABLE: 'ClickHouse (server or chDB) cannot be reached.',
  WAREHOUSE_DATA_DIR_LOCKED: 'Another process owns the embedded ClickHouse data directory.',
  WAREHOUSE_QUERY_FAILED: 'ClickHouse refused a statement.',
  WAREHOUSE_MIGRATION_FAILED: 'A ClickHouse migration failed to apply.',

  // --- reports (quartile report, and the callers of src/warehouse/reports) ---------
  REPORT_BAD_SINCE: 'The start time of a report is not a time: ISO 8601, epoch ms, or an age such as 30m, 2h or 7d.',
  REPORT_UNKNOWN_KIND: 'The report named does not exist (quartile report --help lists them).',

  // --- schema registry / Avro ------------------------------------------------------
  SCHEMA_REGISTRY_UNAVAILABLE: 'The schema registry cannot be reached.',
  SCHEMA_UNKNOWN: 'A record names a schema id or fingerprint that is not known.',

  // --- decode (Avro framing and records) ----------------------------------------
  DECODE_FRAMING_UNKNOWN: 'The record has neither Confluent nor Avro single-object framing.',
  DECODE_SCHEMA_UNKNOWN: 'The record names a schema id or fingerprint Quartile cannot resolve.',
  DECODE_SCHEMA_MISMATCH: 'The record was written with a schema of another record type.',
  DECODE_PAYLOAD_INVALID: 'The Avro payload does not match its writer schema (truncated or corrupt).',

  // --- collector: whole requests -----------------------------------------------------
  COLLECTOR_UNSUPPORTED_MEDIA_TYPE: 'The request body is not application/json (415).',
  COLLECTOR_UNSUPPORTED_ENCODING: 'The Content-Encoding is neither gzip nor identity (415).',
  COLLECTOR_BAD_ENCODING: 'The gzip body could not be decompressed (400).',
  COLLECTOR_BODY_TOO_LARGE: 'The body is larger than collector.maxBodyBytes after decompression (413).',
  COLLECTOR_TOO_MANY_EVENTS: 'The request holds more than collector.maxEvents events (413).',
  COLLECTOR_BAD_JSON: 'The body is not valid JSON (400).',
  COLLECTOR_BAD_BODY: 'The body is not an object with an `events` array (400).',
  COLLECTOR_API_KEY_MISSING: 'API keys are configured and the request has no X-Quartile-Key (401).',
  COLLECTOR_API_KEY_INVALID: 'The X-Quartile-Key matches no configured key (401).',
  COLLECTOR_RATE_LIMITED: 'The producer is over its rate limit; retry after Retry-After (429).',
  COLLECTOR_OVERLOADED: 'The collector is at its hard load limit; retry after Retry-After (503).',
  COLLECTOR_TRANSPORT_UNAVAILABLE: 'The event log did not acknowledge the events; nothing was accepted; retry after Retry-After (503).',

  // --- collector: single events (each rejected event goes to ads.events.rejected) -----
  EVENT_NOT_OBJECT: 'The event is not a JSON object.',
  EVENT_MISSING_FIELD: 'A required field is missing.',
  EVENT_BAD_TYPE: 'A field has the wrong JSON type.',
  EVENT_UNKNOWN_FIELD: 'The event has a field Quartile does not know, or one only the collector may set.',
  EVENT_BAD_ID: 'eventId is not a UUID.',
  EVENT_UNKNOWN_EVENT_TYPE: 'eventType is not one of the AdEvent event types.',
  EVENT_BAD_VALUE: 'A field has a value out of its range or format.',
  EVENT_TOO_LONG: 'A string field is longer than its limit.',
  EVENT_TOO_OLD: 'occurredAt is older than collector.maxEventAgeMs.',
  EVENT_IN_FUTURE: 'occurredAt is further in the future than collector.maxClockSkewMs.',
  EVENT_SHED: 'A non-critical event was shed under overload; it was not accepted and need not be retried.',

  // --- tokens (minting at decision time, decrypt in the pipeline) ---------------------
  DECRYPT_TOKEN_MALFORMED: 'The ad token is not a compact JWE Quartile could have made.',
  DECRYPT_TOKEN_UNKNOWN_KID: 'The ad token names a key id that is not in the key set (retired, or never Quartile’s).',
  DECRYPT_TOKEN_TAMPERED: 'The ad token failed authentication: it was altered, or made with another key.',
  DECRYPT_TOKEN_EXPIRED: 'The ad token is past its expiry.',
  DECRYPT_SESSION_MISMATCH: 'A session-bound ad token was used from another playback session.',
  TOKEN_KEYS_INVALID: 'The token key set (JWKS) is missing, malformed, or has no usable key.',

  // --- pipeline -----------------------------------------------------------------------
  RESOLVE_MISSING_METADATA: 'The registry has no entry for the token’s metadata id (expired, or never stored).',
  ENRICH_INVALID_EVENT: 'The event cannot be enriched (inconsistent with its token or metadata).',
  PIPELINE_INTERNAL_ERROR: 'A processor failed unexpectedly on this event; it was isolated so the partition could go on.',
  SINK_KAFKA_UNAVAILABLE: 'The Kafka sink could not write; the partition waits and retries.',
  SINK_KAFKA_RECORD_INVALID: 'The Kafka sink could not encode this record.',
  SINK_CLICKHOUSE_UNAVAILABLE: 'ClickHouse could not be reached; the partition waits and retries.',
  SINK_CLICKHOUSE_ROW_REJECTED: 'ClickHouse refused this row (a type or value it cannot store); the rest of the batch was written.',

  // --- sinks/pixels ---------------------------------------------------------------
  // Final outcomes of one vendor beacon (beacon_deliveries.reason); failed ones are
  // dead-lettered with the code, the vendor set, and can be re-fired with `quartile dlq replay`.
  SINK_PIXEL_HTTP_4XX: 'The vendor answered a 4xx status other than 408 and 429; the beacon is not retried.',
  SINK_PIXEL_HTTP_5XX: 'The vendor answered 5xx (or 408/429); the beacon is retried with backoff.',
  SINK_PIXEL_TIMEOUT: 'The vendor did not answer within pixels.timeoutMs; the beacon is retried with backoff.',
  SINK_PIXEL_NETWORK: 'The vendor could not be reached (connection refused or reset, DNS); the beacon is retried with backoff.',
  SINK_PIXEL_RETRIES_EXHAUSTED: 'The beacon kept failing until pixels.deadlineMs ran out; it was dead-lettered.',
  SINK_PIXEL_DEADLINE_EXCEEDED: 'The beacon waited past pixels.deadlineMs without being tried (vendor paused, or its circuit open); it was dead-lettered.',
  SINK_PIXEL_SSRF_REFUSED: 'The beacon URL, or a redirect it led to, points at a loopback, private or metadata address; refused, not retried.',
  SINK_PIXEL_URL_INVALID: 'The beacon URL is not an absolute http(s) URL, or redirected too many times; not retried.',
  SINK_PIXEL_CONTEXT_LOST: 'The encrypted device context of a queued beacon expired or cannot be decrypted (queue key changed); the beacon was given up.',
  SINK_PIXEL_NO_CONSENT: 'GDPR applies and the TCF string gives the vendor no consent for the configured purposes; the beacon was suppressed.',
  SINK_PIXEL_CONSENT_MISSING: 'GDPR applies and the event carries no TCF string (neither tcf nor a GPP TCF EU section); the beacon was suppressed.',
  SINK_PIXEL_CONSENT_INVALID: 'GDPR applies and the TCF or GPP string cannot be decoded; the beacon was suppressed.',
  SINK_PIXEL_VENDOR_UNKNOWN: 'GDPR applies and the vendor has no GVL id in pixels.vendors; the beacon was suppressed.',
  SINK_PIXEL_BACKPRESSURE: 'The pixels queue is over pixels.maxPending; the partition waits until beacons drain.',
  SINK_PIXEL_QUEUE_UNAVAILABLE: 'The beacon queue in the state store could not be written; the partition waits and retries.',

  // --- operator actions -------------------------------------------------------------
  ADMIN_DISABLED: 'Operator actions are disabled because no admin token is configured.',
  ADMIN_UNAUTHORIZED: 'The request lacks the admin token.',
  ADMIN_BAD_VENDOR: 'The vendor to pause or resume is not a vendor name (letters, digits, dots, dashes, underscores).',
  ADMIN_PIXELS_DISABLED: 'The pipeline runs no vendor beacons here (pixels.enabled is off), so vendors cannot be paused or resumed.',

  // --- http ----------------------------------------------------------------------------
  HTTP_NOT_FOUND: 'No such route.',
  HTTP_BAD_REQUEST: 'The request is malformed.',

  // --- vast --------------------------------------------------------------------------
  // Each VAST error also carries its IAB code (100, 101, 102, 301, 302, 303, 900).
  VAST_XML_INVALID: 'The VAST document is not well-formed XML (IAB 100).',
  VAST_DOCTYPE_REFUSED: 'The VAST document declares a DOCTYPE or entities; they are refused so that nothing is expanded or read (IAB 100).',
  VAST_TOO_LARGE: 'The VAST document is larger than the size limit (maxBytes).',
  VAST_SCHEMA_INVALID: 'The VAST document does not follow the VAST schema (IAB 101).',
  VAST_VERSION_UNSUPPORTED: 'The VAST version is not supported; VAST 2.0 to 4.3 are (IAB 102).',
  VAST_WRAPPER_LIMIT: 'The wrapper chain is longer than the wrapper limit (IAB 302).',
  VAST_WRAPPER_LOOP: 'A wrapper points back at a VAST URI already in its chain (IAB 302).',
  VAST_DEADLINE_EXCEEDED: 'The total deadline for resolving the wrapper chain ran out (IAB 301).',
  VAST_NO_ADS: 'The VAST response holds no usable ad (IAB 303).',
  VAST_INVALID_OPTIONS: 'VAST options name an unknown key or hold an invalid value.',
  // Outbound HTTP through src/net (VAST fetches now, vendor beacons later).
  NET_URL_INVALID: 'The URL is not an absolute URL.',
  NET_SCHEME_REFUSED: 'Only http and https URLs are fetched.',
  NET_ADDRESS_REFUSED: 'The host resolves to a loopback, private, link-local or metadata address; refused to prevent SSRF.',
  NET_DNS_FAILED: 'The host name could not be resolved.',
  NET_TIMEOUT: 'The request did not complete within its timeout.',
  NET_UNREACHABLE: 'The connection failed or was reset.',
  NET_HTTP_STATUS: 'The server answered with a status other than 2xx.',
  NET_RESPONSE_TOO_LARGE: 'The response body is larger than the size limit.',
  NET_TOO_MANY_REDIRECTS: 'The server redirected more times than allowed.',

  // --- ads (decisions, live breaks, beacons) --------------------------------------------
  DECISION_BAD_REQUEST: 'The decision request is malformed; the message names the field (400).',
  DECISION_OVERLOADED: 'The Ads Manager is shedding this kind of decision under load; retry after Retry-After (503).',
  DECISION_NO_PLAYABLE_MEDIA: 'The ad has no media file of a type in ads.mediaTypes, so it was replaced (IAB 403).',
  DECISION_CAPPED: 'The ad is at its frequency cap for this viewer, so it was replaced or dropped.',
  DECISION_DID_NOT_FIT: 'The ad did not fit the pod\'s remaining duration or count, so it was replaced or dropped.',
  LIVE_BAD_CUE: 'The ad break cue is malformed; the message names the field (400).',
  LIVE_CUE_EXPIRED: 'The cued break has already ended; nothing was prefetched.',
  LIVE_CUE_NOT_ACCEPTED: 'The cue could not be written to live.cues; retry after Retry-After (503).',
  LIVE_BREAK_CONFLICT: 'A cue reuses the breakId of another live event (409).',
  LIVE_BREAK_UNKNOWN: 'No cue has been received for this break (404, cacheable for 1 s).',
  LIVE_BREAK_NOT_READY: 'The break is cued but its pods are still being prefetched (503, cacheable for 1 s).',
} as const;

/** A stable reason code. */
export type ReasonCode = keyof typeof REASON_CODES;

/** True when `value` is a reason code Quartile knows. */
export function isReasonCode(value: string): value is ReasonCode {
  return Object.hasOwn(REASON_CODES, value);
}
