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

  // --- schema registry / Avro ------------------------------------------------------
  SCHEMA_REGISTRY_UNAVAILABLE: 'The schema registry cannot be reached.',
  SCHEMA_UNKNOWN: 'A record names a schema id or fingerprint that is not known.',

  // --- http ----------------------------------------------------------------------------
  HTTP_NOT_FOUND: 'No such route.',
  HTTP_BAD_REQUEST: 'The request is malformed.',
} as const;

/** A stable reason code. */
export type ReasonCode = keyof typeof REASON_CODES;

/** True when `value` is a reason code Quartile knows. */
export function isReasonCode(value: string): value is ReasonCode {
  return Object.hasOwn(REASON_CODES, value);
}
