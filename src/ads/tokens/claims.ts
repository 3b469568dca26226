/**
 * The claims of an opaque ad token, and their compact binary form.
 *
 * JSON claims would not fit the 350-byte token budget once encrypted and base64url
 * encoded (JWE compact adds ~100 characters of header, IV and tag), so the plaintext
 * is a small binary record:
 *
 *   u8 version | 16 B mid | u8 seq | u32 iat | u32 exp | u8 flags
 *   [16 B session hash, when bound] | str ad | str cr | str cmp | str brk
 *
 * where `str` is a u8 length then UTF-8 bytes. Ids longer than MAX_ID_BYTES are left
 * out of the token (they stay in the registry entry, which `mid` names), so the token
 * size has a hard upper bound.
 */
import { QuartileError } from '../../core/errors.ts';

/** Ids longer than this (in UTF-8 bytes) are not carried in the token. */
export const MAX_ID_BYTES = 32;

/** What a token says about the ad it was given for. */
export interface TokenClaims {
  /** Claims format version (1). */
  readonly v: 1;
  /** Ads Metadata Registry id: base64url of the 16-byte content hash. */
  readonly mid: string;
  /** Ad id, when short enough to carry (else null: read it from the registry). */
  readonly ad: string | null;
  /** Creative id, when short enough to carry. */
  readonly cr: string | null;
  /** Campaign id, when short enough to carry. */
  readonly cmp: string | null;
  /** Position in the pod (1-based; 0 for a buffet ad). */
  readonly seq: number;
  /** Live break id, or null for VOD. */
  readonly brk: string | null;
  /** Issued at, epoch seconds. */
  readonly iat: number;
  /** Expires at, epoch seconds. */
  readonly exp: number;
  /** For session-bound tokens: base64url of the 16-byte hash of the playback session id. */
  readonly sid: string | null;
}

const FLAG_SESSION = 1;

function writeString(parts: Buffer[], value: string | null): void {
  const bytes = value === null ? Buffer.alloc(0) : Buffer.from(value, 'utf8');
  const fits = bytes.length <= MAX_ID_BYTES;
  parts.push(Buffer.from([fits ? bytes.length : 0xff]));
  if (fits) parts.push(bytes);
}

/** Encodes claims into the token plaintext. */
export function encodeClaims(claims: TokenClaims): Buffer {
  const mid = Buffer.from(claims.mid, 'base64url');
  if (mid.length !== 16) throw new Error(`mid must be 16 bytes of base64url, got ${mid.length}`);
  const head = Buffer.alloc(1 + 16 + 1 + 4 + 4 + 1);
  head[0] = claims.v;
  mid.copy(head, 1);
  head[17] = claims.seq;
  head.writeUInt32BE(claims.iat, 18);
  head.writeUInt32BE(claims.exp, 22);
  head[26] = claims.sid === null ? 0 : FLAG_SESSION;
  const parts: Buffer[] = [head];
  if (claims.sid !== null) parts.push(Buffer.from(claims.sid, 'base64url'));
  writeString(parts, claims.ad);
  writeString(parts, claims.cr);
  writeString(parts, claims.cmp);
  writeString(parts, claims.brk);
  return Buffer.concat(parts);
}

function malformed(why: string): QuartileError {
  return new QuartileError('DECRYPT_TOKEN_MALFORMED', `The token's claims are malformed: ${why}.`, { stage: 'decrypt' });
}

/** Decodes the token plaintext. */
export function decodeClaims(plain: Buffer): TokenClaims {
  if (plain.length < 27) throw malformed('too short');
  if (plain[0] !== 1) throw malformed(`unknown claims version ${plain[0]}`);
  let at = 27;
  let sid: string | null = null;
  if ((plain[26]! & FLAG_SESSION) !== 0) {
    if (plain.length < at + 16) throw malformed('session hash cut short');
    sid = plain.subarray(at, at + 16).toString('base64url');
    at += 16;
  }
  const readString = (): string | null => {
    if (at >= plain.length) throw malformed('cut short');
    const length = plain[at++]!;
    if (length === 0xff) return null; // too long to carry: in the registry
    if (at + length > plain.length) throw malformed('string runs past the end');
    const value = plain.subarray(at, at + length).toString('utf8');
    at += length;
    return value === '' ? null : value;
  };
  const ad = readString();
  const cr = readString();
  const cmp = readString();
  const brk = readString();
  return {
    v: 1,
    mid: plain.subarray(1, 17).toString('base64url'),
    seq: plain[17]!,
    iat: plain.readUInt32BE(18),
    exp: plain.readUInt32BE(22),
    sid,
    ad,
    cr,
    cmp,
    brk,
  };
}
