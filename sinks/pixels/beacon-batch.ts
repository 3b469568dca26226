/**
 * The sealed payload of a BeaconBatch record (schemas/beacon-batch.avsc): beacons, the
 * URI templates they fire and the contexts of their events. The pipeline writes one per
 * batch of events to `ads.beacons`; beacon delivery writes one per vendor domain to
 * `ads.beacons.retry` for beacons that wait for another attempt.
 *
 * Layout before sealing: JSON of the templates, the contexts and the beacons. A URI
 * template shared by many events (every viewer of an ad fires the same ones) is written
 * once per record and referenced by index, and the beacons' times are offsets from one
 * base time. A beacon that fails for good is dead-lettered as a batch of its own (with
 * `replay` set), which `quartile dlq replay` sends back to `ads.beacons`.
 *
 * Sealed with AES-256-GCM (see BinarySealer) and bound to the record's key, because the
 * contexts hold raw device identifiers: the event log must never hold them in clear.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { MacroValues } from '../../src/ads/vast/macros.ts';
import { QuartileError } from '../../src/core/errors.ts';
import type { ReasonCode } from '../../src/core/reason-codes.ts';
import type { EventContext } from './event-context.ts';
import { GcmIvs, IV_BYTES } from './gcm-ivs.ts';

/** A beacon's URI with what firing and recording it needs, as the pipeline chose it. */
export interface BeaconTarget {
  /** The URI as the registry holds it, macros unexpanded. */
  readonly template: string;
  /** Lower-case host (no port); null when the URI is not absolute http(s). */
  readonly host: string | null;
  /** Stable hash of list, template and occurrence (beacon_deliveries.uri_hash). */
  readonly uriHash: string;
  /** Whose ledger entry guards it: the event's, or (progress offsets) the ad play's. */
  readonly scope: 'event' | 'adInstance';
  /** The vendor's name when the beacon was queued (ledger ids and rows keep it). */
  readonly vendor: string;
  /** Macro values of the beacon itself ([REASON] of verificationNotExecuted). */
  readonly macros?: MacroValues;
}

/** One beacon of a batch. */
export interface BatchBeacon {
  /** Index of its event's context. */
  readonly ctx: number;
  /** Index of its target. */
  readonly target: number;
  /** When it was first queued (epoch ms): its deadline counts from here. */
  readonly firstAt: number;
  /** Attempts made so far. */
  readonly attempts: number;
  /** Not to be tried before this (epoch ms). */
  readonly due: number;
  /** Its event came back through `quartile dlq replay`: a beacon that failed is fired again. */
  readonly replay: boolean;
  /** The pipeline's decision not to fire it (no consent, invalid URI), or null to fire it. */
  readonly verdict: ReasonCode | null;
}

/** What a BeaconBatch record carries, unsealed. */
export interface BeaconBatchContent {
  readonly targets: readonly BeaconTarget[];
  readonly contexts: readonly EventContext[];
  readonly beacons: readonly BatchBeacon[];
}

type TargetEntry = [template: string, host: string | null, uriHash: string, scope: 'e' | 'a', vendor: string, macros?: MacroValues];
type BeaconEntry = [ctx: number, target: number, firstAt: number, attempts: number, due: number, replay: 0 | 1, verdict: ReasonCode | 0];
interface Header {
  readonly v: 1;
  /** Base of the beacons' times: they are written as offsets from it. */
  readonly q: number;
  readonly t: readonly TargetEntry[];
  readonly c: readonly EventContext[];
  readonly b: readonly BeaconEntry[];
}

/** Packs a batch into the bytes that get sealed. */
export function packBatch(content: BeaconBatchContent): Buffer {
  let base = Number.POSITIVE_INFINITY;
  for (const b of content.beacons) if (b.firstAt < base) base = b.firstAt;
  if (!Number.isFinite(base)) base = 0;
  const header: Header = {
    v: 1,
    q: base,
    t: content.targets.map((t) => {
      const entry: TargetEntry = [t.template, t.host, t.uriHash, t.scope === 'event' ? 'e' : 'a', t.vendor];
      if (t.macros !== undefined) entry.push(t.macros);
      return entry;
    }),
    c: content.contexts,
    b: content.beacons.map((b) => [b.ctx, b.target, b.firstAt - base, b.attempts, b.due - base, b.replay ? 1 : 0, b.verdict ?? 0]),
  };
  return Buffer.from(JSON.stringify(header), 'utf8');
}

function malformed(why: string): QuartileError {
  return new QuartileError('SINK_PIXEL_CONTEXT_LOST', `A beacon batch cannot be read: ${why}.`, { stage: 'sinks/pixels' });
}

/** Reads what {@link packBatch} wrote. Throws SINK_PIXEL_CONTEXT_LOST when the bytes are not a batch. */
export function unpackBatch(bytes: Buffer): BeaconBatchContent {
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8')) as Header;
  } catch {
    throw malformed('it is not JSON');
  }
  if (header === null || typeof header !== 'object' || header.v !== 1) throw malformed('it is not a version this Quartile reads');
  const q = header.q;
  return {
    targets: header.t.map(([template, host, uriHash, scope, vendor, macros]) =>
      macros === undefined ? { template, host, uriHash, scope: scope === 'e' ? 'event' : 'adInstance', vendor } : { template, host, uriHash, scope: scope === 'e' ? 'event' : 'adInstance', vendor, macros },
    ),
    contexts: header.c,
    beacons: header.b.map(([ctx, target, firstAt, attempts, due, replay, verdict]) => ({ ctx, target, firstAt: q + firstAt, attempts, due: q + due, replay: replay === 1, verdict: verdict === 0 ? null : verdict })),
  };
}

const KID_BYTES = 6;
const TAG_BYTES = 16;

/**
 * AES-256-GCM over bytes: `kid | iv | tag | ciphertext`, with associated data binding
 * the blob to where it is stored (a record key). The key id (the first bytes of the
 * key's SHA-256) lets a blob sealed under another key be recognised as such.
 */
export class BinarySealer {
  readonly #key: Buffer;
  readonly #kid: Buffer;
  readonly #ivs = new GcmIvs();

  constructor(key: Buffer) {
    if (key.length !== 32) throw new QuartileError('CONFIG_INVALID_VALUE', 'pixels.queueKey must be 32 bytes (base64).');
    this.#key = key;
    this.#kid = createHash('sha256').update(key).digest().subarray(0, KID_BYTES);
  }

  seal(plain: Buffer, aad: string): Buffer {
    const iv = this.#ivs.next();
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = cipher.update(plain);
    cipher.final(); // GCM is a stream mode: nothing is held back
    return Buffer.concat([this.#kid, iv, cipher.getAuthTag(), body]);
  }

  /** The sealed bytes, or null when the blob is not ours (another key) or was altered. */
  open(blob: Buffer, aad: string): Buffer | null {
    const head = KID_BYTES + IV_BYTES + TAG_BYTES;
    if (blob.length < head || !blob.subarray(0, KID_BYTES).equals(this.#kid)) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, blob.subarray(KID_BYTES, KID_BYTES + IV_BYTES));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(blob.subarray(KID_BYTES + IV_BYTES, head));
      const body = decipher.update(blob.subarray(head));
      decipher.final();
      return body;
    } catch {
      return null;
    }
  }
}
