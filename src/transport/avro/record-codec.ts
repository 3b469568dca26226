/**
 * Encodes and decodes Quartile's Avro records on the wire.
 *
 * Writing: with a schema registry, Confluent framing through
 * @kafkajs/confluent-schema-registry (schemas are registered at start-up under the
 * topic's `<topic>-value` subject, with BACKWARD compatibility); without one, Avro
 * single-object encoding with the CRC-64-AVRO fingerprint of schemas/.
 *
 * Reading accepts BOTH framings whatever the configuration, so a pipeline can drain
 * a topic written before a registry was introduced (or after it was removed). Every
 * record is resolved from its writer schema into the current reader schema.
 */
import avro from 'avsc';
import { SchemaRegistry, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { QuartileError, messageOf } from '../../core/errors.ts';
import { TOPICS, type TopicName } from '../topics.ts';
import { confluentHeader, detectFraming, frameConfluent, frameSingleObject, singleObjectHeader } from './framing.ts';
import { encodeFramed } from './framed-writer.ts';
import { SchemaCatalog, type RecordName, type RecordTypes } from './schema-catalog.ts';

/** Which record type each topic carries. */
export const TOPIC_RECORDS = {
  [TOPICS.raw]: 'AdEvent',
  [TOPICS.enriched]: 'EnrichedAdEvent',
  [TOPICS.sessions]: 'AdSession',
  [TOPICS.deadLetter]: 'DeadLetter',
  [TOPICS.rejected]: 'RejectedEvent',
  [TOPICS.liveCues]: 'AdBreakCue',
  [TOPICS.beacons]: 'BeaconBatch',
  [TOPICS.beaconRetries]: 'BeaconBatch',
} as const satisfies Record<TopicName, RecordName>;

/** The record type of a topic. */
export type RecordOf<T extends TopicName> = RecordTypes[(typeof TOPIC_RECORDS)[T]];

/** Registry connection settings. */
export interface RegistryOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

function unknownFraming(name: RecordName, reason: string): QuartileError {
  return new QuartileError('DECODE_FRAMING_UNKNOWN', `Cannot decode a ${name}: ${reason}.`, { stage: 'decode' });
}

interface Reader {
  readonly type: avro.Type;
  readonly resolver: avro.Resolver | undefined;
}

export class RecordCodec {
  readonly framing: 'confluent' | 'single-object';
  readonly catalog: SchemaCatalog;
  readonly #registry: SchemaRegistry | undefined;
  /** Registry id of the current schema, per topic. */
  readonly #writerIds = new Map<TopicName, Promise<number>>();
  /** Readers per (record name, writer key): key is `c:<id>` or `s:<fingerprint hex>`. */
  readonly #readers = new Map<string, Reader>();

  constructor(options: { registry?: RegistryOptions | undefined; catalog?: SchemaCatalog } = {}) {
    this.catalog = options.catalog ?? new SchemaCatalog();
    const registry = options.registry;
    if (registry !== undefined && registry.url !== '') {
      this.framing = 'confluent';
      this.#registry = new SchemaRegistry({
        host: registry.url,
        clientId: 'quartile',
        ...(registry.username === '' ? {} : { auth: { username: registry.username, password: registry.password } }),
        retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
      });
    } else {
      this.framing = 'single-object';
    }
  }

  /** Registers every topic's schema with the registry (no-op without one). */
  async registerAll(): Promise<void> {
    await Promise.all((Object.keys(TOPIC_RECORDS) as TopicName[]).map((topic) => this.#schemaId(topic)));
  }

  #schemaId(topic: TopicName): Promise<number> {
    let id = this.#writerIds.get(topic);
    if (id === undefined) {
      const version = this.catalog.current(TOPIC_RECORDS[topic]);
      id = this.#registry!.register(
        { type: 'AVRO' as never, schema: version.json },
        { subject: `${topic}-value`, compatibility: COMPATIBILITY.BACKWARD },
      )
        .then((r) => r.id)
        .catch((cause: unknown) => {
          this.#writerIds.delete(topic); // try again next time
          throw new QuartileError('SCHEMA_REGISTRY_UNAVAILABLE', `Registering the ${topic} schema failed: ${messageOf(cause)}`, { retriable: true, cause });
        });
      this.#writerIds.set(topic, id);
    }
    return id;
  }

  /** Encodes a record for `topic`. Invalid records are a bug in Quartile and throw. */
  async encode<T extends TopicName>(topic: T, record: RecordOf<T>): Promise<Buffer> {
    const version = this.catalog.current(TOPIC_RECORDS[topic]);
    const payload = version.type.toBuffer(record);
    if (this.#registry === undefined) return frameSingleObject(version.fingerprint, payload);
    return frameConfluent(await this.#schemaId(topic), payload);
  }

  /**
   * Encodes many records for one topic (one registry lookup), as views into shared
   * buffers (see framed-writer.ts). Throws if any record is invalid, which is a bug
   * in Quartile; a caller that must isolate it encodes that batch one by one.
   */
  async encodeMany<T extends TopicName>(topic: T, records: readonly RecordOf<T>[]): Promise<Buffer[]> {
    const version = this.catalog.current(TOPIC_RECORDS[topic]);
    const header = this.#registry === undefined ? singleObjectHeader(version.fingerprint) : confluentHeader(await this.#schemaId(topic));
    return encodeFramed(version.type, header, records);
  }

  /**
   * Decodes a record of `topic`, whichever framing it has. Failures are
   * QuartileErrors with DECODE_* codes; they are never retriable except when the
   * registry cannot be reached.
   */
  async decode<T extends TopicName>(topic: T, buffer: Buffer): Promise<RecordOf<T>> {
    const name = TOPIC_RECORDS[topic];
    const framing = detectFraming(buffer);
    if (framing.kind === 'unknown') throw unknownFraming(name, framing.reason);
    const reader = framing.kind === 'confluent' ? await this.#confluentReader(name, framing.schemaId) : this.#singleObjectReader(name, framing.fingerprint);
    return this.#read(name, reader, buffer, framing.payloadOffset);
  }

  /**
   * Decodes many records of `topic`: each result is the record, or the non-retriable
   * DECODE_* error that refused it. Throws only a retriable error (the registry cannot
   * be reached). Readers already known are used synchronously, so a batch costs one
   * promise, not one per record.
   */
  async decodeMany<T extends TopicName>(topic: T, buffers: readonly Buffer[]): Promise<Array<RecordOf<T> | QuartileError>> {
    const name = TOPIC_RECORDS[topic];
    const out: Array<RecordOf<T> | QuartileError> = [];
    for (const buffer of buffers) {
      try {
        const framing = detectFraming(buffer);
        if (framing.kind === 'unknown') throw unknownFraming(name, framing.reason);
        const reader =
          framing.kind === 'confluent'
            ? (this.#readers.get(`${name}/c:${framing.schemaId}`) ?? (await this.#confluentReader(name, framing.schemaId)))
            : this.#singleObjectReader(name, framing.fingerprint);
        out.push(this.#read(name, reader, buffer, framing.payloadOffset));
      } catch (error) {
        if (!(error instanceof QuartileError) || error.retriable) throw error;
        out.push(error);
      }
    }
    return out;
  }

  #read<T extends TopicName>(name: RecordName, reader: Reader, buffer: Buffer, payloadOffset: number): RecordOf<T> {
    try {
      return reader.type.fromBuffer(buffer.subarray(payloadOffset), reader.resolver) as RecordOf<T>;
    } catch (cause) {
      throw new QuartileError('DECODE_PAYLOAD_INVALID', `The ${name} payload is not valid Avro for its schema: ${messageOf(cause)}`, { stage: 'decode', cause });
    }
  }

  #reader(name: RecordName, key: string, writer: avro.Type, writerName: string): Reader {
    const current = this.catalog.current(name);
    if (writerName !== current.fullName) {
      throw new QuartileError('DECODE_SCHEMA_MISMATCH', `Expected a ${current.fullName} but the record was written as ${writerName}.`, { stage: 'decode' });
    }
    let reader: Reader;
    try {
      reader = { type: current.type, resolver: writer.equals(current.type) ? undefined : current.type.createResolver(writer) };
    } catch (cause) {
      throw new QuartileError('DECODE_SCHEMA_MISMATCH', `The writer schema of this ${name} cannot be read by the current one: ${messageOf(cause)}`, { stage: 'decode', cause });
    }
    this.#readers.set(`${name}/${key}`, reader);
    return reader;
  }

  #singleObjectReader(name: RecordName, fingerprint: Buffer): Reader {
    const hex = fingerprint.toString('hex');
    const cached = this.#readers.get(`${name}/s:${hex}`);
    if (cached !== undefined) return cached;
    const writer = this.catalog.byFingerprint(fingerprint);
    if (writer === undefined) {
      throw new QuartileError('DECODE_SCHEMA_UNKNOWN', `No schema in schemas/ has the fingerprint ${hex}; was it written by a newer Quartile?`, { stage: 'decode' });
    }
    return this.#reader(name, `s:${hex}`, writer.type, writer.fullName);
  }

  async #confluentReader(name: RecordName, schemaId: number): Promise<Reader> {
    const cached = this.#readers.get(`${name}/c:${schemaId}`);
    if (cached !== undefined) return cached;
    if (this.#registry === undefined) {
      throw new QuartileError(
        'DECODE_SCHEMA_UNKNOWN',
        `The record uses registry schema id ${schemaId}, but no schema registry is configured (set QUARTILE_SCHEMA_REGISTRY_URL).`,
        { stage: 'decode' },
      );
    }
    let writer: avro.Type;
    try {
      writer = (await this.#registry.getSchema(schemaId)) as unknown as avro.Type;
    } catch (cause) {
      const missing = /not found|404|40403/i.test(messageOf(cause));
      throw new QuartileError(
        missing ? 'DECODE_SCHEMA_UNKNOWN' : 'SCHEMA_REGISTRY_UNAVAILABLE',
        `Schema id ${schemaId} could not be fetched from the registry: ${messageOf(cause)}`,
        { stage: 'decode', retriable: !missing, cause },
      );
    }
    return this.#reader(name, `c:${schemaId}`, writer, writer.name ?? '');
  }
}
