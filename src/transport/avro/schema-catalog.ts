/**
 * The Avro schemas of schemas/*.avsc (current) and schemas/history/ (earlier
 * versions), parsed once. Single-object decoding looks writer schemas up here by
 * CRC-64-AVRO fingerprint, so a record written with an older version still decodes
 * into the current shape.
 */
import { readFileSync, readdirSync } from 'node:fs';
import avro from 'avsc';
import { crc64Avro } from './crc64-avro.ts';
import type { AdBreakCue, AdEvent, AdSession, BeaconBatch, DeadLetter, EnrichedAdEvent, RejectedEvent } from '../../../schemas/types.ts';

/** The record types Quartile writes, by short name, with their TypeScript shapes. */
export interface RecordTypes {
  AdEvent: AdEvent;
  EnrichedAdEvent: EnrichedAdEvent;
  AdSession: AdSession;
  DeadLetter: DeadLetter;
  RejectedEvent: RejectedEvent;
  AdBreakCue: AdBreakCue;
  BeaconBatch: BeaconBatch;
}

/** A record type name. */
export type RecordName = keyof RecordTypes;

/** One parsed schema version. */
export interface SchemaVersion {
  readonly name: RecordName;
  readonly fullName: string;
  readonly type: avro.Type;
  /** The raw schema JSON (with docs), as registered with a schema registry. */
  readonly json: string;
  readonly fingerprint: Buffer;
}

const SCHEMA_DIR = new URL('../../../schemas/', import.meta.url);

function parse(file: URL): SchemaVersion {
  const json = readFileSync(file, 'utf8');
  const type = avro.Type.forSchema(JSON.parse(json) as avro.Schema);
  const fullName = type.name!;
  return {
    name: fullName.split('.').at(-1) as RecordName,
    fullName,
    type,
    json,
    // avsc's schema() without options is the Parsing Canonical Form.
    fingerprint: crc64Avro(JSON.stringify(type.schema())),
  };
}

/** All current and historical schemas. */
export class SchemaCatalog {
  readonly #current = new Map<RecordName, SchemaVersion>();
  readonly #byFingerprint = new Map<string, SchemaVersion>();

  constructor(dir: URL = SCHEMA_DIR) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.avsc'))) {
      const version = parse(new URL(file, dir));
      this.#current.set(version.name, version);
      this.#byFingerprint.set(version.fingerprint.toString('hex'), version);
    }
    const history = new URL('history/', dir);
    for (const file of readdirSync(history).filter((f) => f.endsWith('.avsc'))) {
      const version = parse(new URL(file, history));
      // Identical to a current version? Keep the current object (same fingerprint).
      if (!this.#byFingerprint.has(version.fingerprint.toString('hex'))) this.#byFingerprint.set(version.fingerprint.toString('hex'), version);
    }
  }

  /** The current version of a record type. */
  current(name: RecordName): SchemaVersion {
    const version = this.#current.get(name);
    if (version === undefined) throw new Error(`No schema ${name} in schemas/`);
    return version;
  }

  /** Any known version with this CRC-64-AVRO fingerprint. */
  byFingerprint(fingerprint: Buffer): SchemaVersion | undefined {
    return this.#byFingerprint.get(fingerprint.toString('hex'));
  }

  /** Every current version. */
  all(): SchemaVersion[] {
    return [...this.#current.values()];
  }
}
