/**
 * What a queued beacon needs of its event besides the URI: the macro values and the
 * device for the server-side headers. It is kept small (a few hundred bytes): it
 * travels through the event log with every beacon of the event. The device's values
 * and Quartile's own ([DEVICEUA], [DEVICEIP], [SERVERSIDE], [SERVERUA], [ADTYPE]) are
 * not written into its macros; delivery adds them when it reads the context
 * (`deliveryMacros`).
 *
 * Privacy: the raw IP, user agent and IFA are device identifiers that Quartile uses
 * in flight only (ARCHITECTURE.md, "Privacy by construction"). Queued beacons must
 * survive a crash, so contexts travel through the event log with their beacons
 * (beacon-batch.ts), but only sealed: AES-256-GCM under `pixels.queueKey` (or a key
 * generated into dataDir/keys). Nothing of them is ever stored in plain text.
 *
 * Earlier versions queued contexts in the state store, sealed as JSON text
 * (ContextSealer); beacon delivery still opens those when it takes over what such a
 * version left queued (upgrade.ts).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { QuartileConfig } from '../../src/config/spec.ts';
import { QuartileError } from '../../src/core/errors.ts';
import { loadOrCreateSecretFile } from '../../src/core/secret-file.ts';
import type { MacroLayers, MacroValues } from '../../src/ads/vast/macros.ts';
import type { AdMetadata } from '../../src/ads/registry/ad-metadata.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import type { BeaconDevice } from '../../src/beacons/dispatcher.ts';
import { ConsentGate } from './consent.ts';
import { GcmIvs } from './gcm-ivs.ts';

/** Macro values as stored: JSON-safe. */
type StoredMacro = string | number | boolean | readonly (string | number)[] | null;

/** One event's context for its beacons. */
export interface EventContext {
  readonly eventId: string;
  readonly eventType: string;
  readonly adInstanceId: string;
  /** Event-level macro values (IFA and IFATYPE are made per vendor at fire time). */
  readonly macros: Readonly<Record<string, StoredMacro>>;
  readonly device: { readonly ip: string | null; readonly userAgent: string | null };
  /** The device IFA, already blanked under limit-ad-tracking. */
  readonly ifa: string | null;
  readonly ifaType: string | null;
  readonly limitAdTracking: boolean;
  /** Where the event's raw record was first read. */
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string };
}

/**
 * Sets a macro unless its value is absent. A module function rather than a closure per
 * event: under tsx (esbuild keepNames) each named closure created costs ~0.4 µs.
 */
function putMacro(macros: Record<string, StoredMacro>, name: string, value: StoredMacro | undefined): void {
  if (value !== undefined && value !== null && value !== '') macros[name] = value;
}

/** The context of a pipeline event (after hash, so `inFlight` is set). */
export function eventContextOf(event: PipelineEvent, metadata: AdMetadata): EventContext {
  const e = event.enriched!;
  const c = e.consent;
  const inFlight = event.inFlight;
  const macros: Record<string, StoredMacro> = { LIMITADTRACKING: c.limitAdTracking };
  // Absent values are left out: the expander writes -1 for an unknown IAB macro.
  putMacro(macros, 'ADPLAYHEAD', e.adPlayheadMs ?? undefined);
  putMacro(macros, 'ASSETURI', metadata.mediaUri ?? undefined);
  putMacro(macros, 'ERRORCODE', e.errorCode ?? undefined);
  putMacro(macros, 'ADSERVINGID', metadata.adServingId ?? undefined);
  putMacro(macros, 'PODSEQUENCE', e.podSequence > 0 ? e.podSequence : undefined);
  putMacro(macros, 'APPBUNDLE', e.appName);
  putMacro(macros, 'GDPRCONSENT', c.tcf ?? undefined);
  putMacro(macros, 'GPPSTRING', c.gpp ?? undefined);
  putMacro(macros, 'GPPSECTIONID', c.gppSid.length > 0 ? c.gppSid : undefined);
  putMacro(macros, 'REGULATIONS', ConsentGate.gdprApplies(c) ? ['gdpr'] : undefined);
  return {
    eventId: e.eventId,
    eventType: e.eventType,
    adInstanceId: e.adInstanceId,
    macros,
    device: { ip: inFlight?.ip ?? null, userAgent: inFlight?.userAgent ?? null },
    ifa: c.limitAdTracking ? null : (inFlight?.ifa ?? null),
    ifaType: c.limitAdTracking ? null : (inFlight?.ifaType ?? null),
    limitAdTracking: c.limitAdTracking,
    source: { topic: event.source.originTopic, partition: event.source.originPartition, offset: event.source.originOffset },
  };
}

/**
 * The event's macro values as beacons expand them: the context's, the device's, and
 * Quartile's own as the server-side caller. Made once per context when delivery reads it,
 * and frozen.
 */
export function deliveryMacros(ctx: EventContext, serverUserAgent: string): MacroValues {
  // Object.assign and then the new names, not `{ ...ctx.macros, SERVERSIDE: 1, … }`: on V8 11
  // (Node 20) a spread copy given properties its source lacks leaves the fast clone path
  // (overwriting one it has does not), and cost ~4 µs an event here, ~0.3 µs this way.
  const macros: Record<string, StoredMacro> = Object.assign({}, ctx.macros);
  macros['SERVERSIDE'] = 1;
  macros['SERVERUA'] = serverUserAgent;
  macros['ADTYPE'] = 'video';
  putMacro(macros, 'DEVICEUA', ctx.device.userAgent ?? undefined);
  putMacro(macros, 'DEVICEIP', ctx.device.ip ?? undefined);
  // Frozen, the expander encodes each value once for all the event's beacons (macros.ts).
  return Object.freeze(macros) as MacroValues;
}

/** How [IFA] is written: see `pixels.ifa`. */
export type IfaMode = 'hashed' | 'raw' | 'withheld';

/**
 * The macro values of one beacon, as layers (no merged copy per beacon): [IFA]/[IFATYPE]
 * for this vendor, then the beacon's own, then the event's (`eventMacros`, see
 * deliveryMacros). Limit-ad-tracking withholds the IFA (-2, VAST 4.1 §6.1), as the Ads
 * Manager does in ad requests; `hashed` gives each vendor its own keyed hash, so
 * vendors cannot join their logs on it.
 */
export function beaconMacros(ctx: EventContext, eventMacros: MacroValues, vendor: string, mode: IfaMode, ifaKey: Buffer, extra: MacroValues | undefined, cacheBuster?: string): MacroLayers {
  let ifa: string | null | undefined;
  let ifaType: string | null | undefined;
  if (ctx.limitAdTracking || mode === 'withheld') {
    ifa = null;
    ifaType = null;
  } else if (ctx.ifa === null || ctx.ifa === '') {
    ifa = undefined;
    ifaType = undefined;
  } else if (mode === 'raw') {
    ifa = ctx.ifa;
    ifaType = ctx.ifaType ?? undefined;
  } else {
    ifa = vendorScopedIfa(ifaKey, vendor, ctx.ifa);
    ifaType = 'ppid';
  }
  const own = cacheBuster === undefined ? { IFA: ifa, IFATYPE: ifaType } : { IFA: ifa, IFATYPE: ifaType, CACHEBUSTING: cacheBuster };
  return extra === undefined ? [own, eventMacros] : [own, extra, eventMacros];
}

/** A keyed hash of `ifa` for one vendor, formatted as a UUID as IFAs are. */
export function vendorScopedIfa(key: Buffer, vendor: string, ifa: string): string {
  let hasher = ifaHashers.get(key);
  if (hasher === undefined) ifaHashers.set(key, (hasher = new IfaHasher(key)));
  return hasher.uuid(vendor, ifa);
}

/** SHA-256's block size: HMAC pads its key to it (RFC 2104). */
const HMAC_BLOCK = 64;
/** Room for the IFA in a vendor's scratch buffer; a longer one (none is, in practice) takes createHmac. */
const IFA_ROOM = 128;
const UUID_LENGTH = 36;
const DASH = 0x2d;
/** The lower-case hex digits, as bytes. */
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * HMAC-SHA256(key, `ifa:<vendor>\0<ifa>`) as RFC 2104 writes it, H((K ^ opad) ‖ H((K ^ ipad) ‖ m)),
 * in two one-shot hashes over buffers kept per vendor. It gives what createHmac gives
 * (a unit test holds the two together) at about a third less CPU and garbage: a
 * createHmac per beacon set up a native HMAC context each time, ~2 µs of every beacon.
 */
class IfaHasher {
  readonly #key: Buffer;
  /** (K ^ opad), then room for the inner digest. */
  readonly #outer = Buffer.alloc(HMAC_BLOCK + 32);
  /** Per vendor: (K ^ ipad) ‖ `ifa:<vendor>\0`, then room for the IFA. */
  readonly #inner = new Map<string, { readonly prefix: string; readonly buffer: Buffer; readonly at: number }>();
  readonly #ipad = Buffer.alloc(HMAC_BLOCK, 0x36);
  /** Where the UUID's text is written. */
  readonly #text = Buffer.alloc(UUID_LENGTH);

  constructor(key: Buffer) {
    this.#key = key;
    const k = key.length > HMAC_BLOCK ? createHash('sha256').update(key).digest() : key;
    this.#outer.fill(0x5c, 0, HMAC_BLOCK);
    for (let i = 0; i < k.length; i++) {
      this.#ipad[i]! ^= k[i]!;
      this.#outer[i]! ^= k[i]!;
    }
  }

  /** The first 16 bytes of the HMAC as a UUID's text (8-4-4-4-12 hex digits). */
  uuid(vendor: string, ifa: string): string {
    let inner = this.#inner.get(vendor);
    if (inner === undefined) {
      // The message is `ifa:<vendor>\0<ifa>`; its first part is kept, as text and in the buffer.
      const prefix = `ifa:${vendor}\u0000`;
      const buffer = Buffer.alloc(HMAC_BLOCK + Buffer.byteLength(prefix) + IFA_ROOM);
      this.#ipad.copy(buffer, 0);
      const at = HMAC_BLOCK + buffer.write(prefix, HMAC_BLOCK, 'utf8');
      inner = { prefix, buffer, at };
      this.#inner.set(vendor, inner);
    }
    let digest: string;
    if (ifa.length * 3 > IFA_ROOM) digest = createHmac('sha256', this.#key).update(`${inner.prefix}${ifa}`).digest('binary');
    else {
      const end = inner.at + inner.buffer.write(ifa, inner.at, 'utf8');
      // Digests come back as latin1 ('binary') strings, not Buffers: a Buffer made per
      // call cost more than the hash itself.
      this.#outer.write(hash('sha256', inner.buffer.subarray(0, end), 'binary'), HMAC_BLOCK, 'latin1');
      digest = hash('sha256', this.#outer, 'binary');
    }
    // Written as hex straight into the UUID's layout: one string made, not six.
    const text = this.#text;
    for (let i = 0, at = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = DASH;
      const byte = digest.charCodeAt(i);
      text[at++] = HEX[byte >> 4]!;
      text[at++] = HEX[byte & 15]!;
    }
    return text.toString('latin1', 0, UUID_LENGTH);
  }
}

/** One hasher per key: delivery has one key, tests a few. */
const ifaHashers = new WeakMap<Buffer, IfaHasher>();

/** The device headers of a context. */
export function deviceOf(ctx: EventContext): BeaconDevice {
  return ctx.device;
}

/**
 * AES-256-GCM sealing of JSON values as text, as earlier versions stored contexts in
 * the state store: kept to open what such a version left queued (upgrade.ts).
 */
export class ContextSealer {
  readonly #key: Buffer;
  /** Key id: the first bytes of the key's SHA-256, so a blob sealed under another key is recognised. */
  readonly #kid: string;
  readonly #ivs = new GcmIvs();

  constructor(key: Buffer) {
    if (key.length !== 32) throw new QuartileError('CONFIG_INVALID_VALUE', 'pixels.queueKey must be 32 bytes (base64).');
    this.#key = key;
    this.#kid = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  }

  /** `kid.iv.tag.ciphertext`, base64url; `aad` binds the blob to its state key. */
  seal(value: unknown, aad: string): string {
    const iv = this.#ivs.next();
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(aad));
    const text = cipher.update(JSON.stringify(value), 'utf8');
    const tail = cipher.final(); // empty for GCM, which is a stream cipher: no copy then
    const body = tail.length === 0 ? text : Buffer.concat([text, tail]);
    return `${this.#kid}.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  /** What was sealed (the caller knows its shape), or null when the blob is not ours or was altered. */
  open<T = EventContext>(blob: string, aad: string): T | null {
    const [kid, iv, tag, body] = blob.split('.');
    if (kid !== this.#kid || iv === undefined || tag === undefined || body === undefined) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      return null;
    }
  }
}

/** The queue key from `pixels.queueKey`, else generated into dataDir/keys (mode 0600). */
export function loadQueueKey(config: QuartileConfig): Buffer {
  if (config.pixels.queueKey !== '') {
    const key = Buffer.from(config.pixels.queueKey, 'base64');
    if (key.length !== 32) throw new QuartileError('CONFIG_INVALID_VALUE', 'pixels.queueKey must be 32 bytes, base64-encoded.');
    return key;
  }
  const path = join(resolve(config.dataDir), 'keys', 'pixels-queue-key.json');
  const { value } = loadOrCreateSecretFile<{ key: string }>(path, () => ({ key: randomBytes(32).toString('base64') }));
  return Buffer.from(value.key, 'base64');
}
