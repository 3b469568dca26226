/**
 * The token key set: 256-bit symmetric keys in a JWKS (`kty: oct`). The newest
 * unretired key encrypts; every unretired key decrypts, so keys rotate without
 * breaking tokens already in devices' hands: add a key (it becomes the newest), wait
 * out the token TTL, then mark the old one `"retired": true` and later remove it.
 *
 * Quartile reads two non-standard JWK members: `iat` (creation, epoch seconds; orders
 * the keys) and `retired` (true = no longer decrypts).
 */
import { randomBytes } from 'node:crypto';
import { QuartileError } from '../../core/errors.ts';

/** One symmetric token key. */
export interface TokenKey {
  readonly kid: string;
  readonly secret: Buffer;
  /** Creation time, epoch seconds. */
  readonly createdAt: number;
  readonly retired: boolean;
}

/** A JWK as Quartile writes it. */
export interface TokenJwk {
  readonly kty: 'oct';
  readonly kid: string;
  readonly use: 'enc';
  readonly alg: 'A256GCM';
  readonly k: string;
  readonly iat: number;
  readonly retired?: boolean;
}

/** Longest key id: it is in every token's header, which counts against the size budget. */
export const MAX_KID_LENGTH = 12;

function invalid(message: string): QuartileError {
  return new QuartileError('TOKEN_KEYS_INVALID', `${message} Generate a key set with \`quartile keys generate\`.`);
}

export class TokenKeyring {
  readonly #keys: readonly TokenKey[];
  readonly #byKid: ReadonlyMap<string, TokenKey>;
  readonly #newest: TokenKey;

  private constructor(keys: readonly TokenKey[]) {
    this.#keys = keys;
    this.#byKid = new Map(keys.filter((k) => !k.retired).map((k) => [k.kid, k]));
    const usable = keys.filter((k) => !k.retired);
    if (usable.length === 0) throw invalid('The token key set has no unretired key.');
    this.#newest = usable.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a));
  }

  /** Parses a JWKS (object or JSON text). */
  static fromJwks(jwks: unknown): TokenKeyring {
    let value = jwks;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        throw invalid('The token key set is not valid JSON.');
      }
    }
    const keys = (value as { keys?: unknown })?.keys;
    if (!Array.isArray(keys) || keys.length === 0) throw invalid('The token key set must be a JWKS: {"keys": [...]}.');
    const seen = new Set<string>();
    const parsed = keys.map((raw: unknown, i): TokenKey => {
      const jwk = raw as Partial<TokenJwk> & { kty?: string; alg?: string };
      if (jwk.kty !== 'oct') throw invalid(`Key ${i} must have "kty": "oct".`);
      if (jwk.alg !== undefined && jwk.alg !== 'A256GCM') throw invalid(`Key ${i} must be for A256GCM.`);
      if (typeof jwk.kid !== 'string' || !/^[A-Za-z0-9_-]+$/.test(jwk.kid) || jwk.kid.length > MAX_KID_LENGTH) {
        throw invalid(`Key ${i} needs a "kid" of 1–${MAX_KID_LENGTH} letters, digits, - or _.`);
      }
      if (seen.has(jwk.kid)) throw invalid(`Key id ${jwk.kid} appears twice.`);
      seen.add(jwk.kid);
      const secret = typeof jwk.k === 'string' ? Buffer.from(jwk.k, 'base64url') : Buffer.alloc(0);
      if (secret.length !== 32) throw invalid(`Key ${jwk.kid} must hold 256 bits ("k", base64url).`);
      return { kid: jwk.kid, secret, createdAt: typeof jwk.iat === 'number' ? jwk.iat : 0, retired: jwk.retired === true };
    });
    return new TokenKeyring(parsed);
  }

  /** The key new tokens are encrypted with. */
  get encryptionKey(): TokenKey {
    return this.#newest;
  }

  /** The unretired key with this id, if any. */
  decryptionKey(kid: string): TokenKey | undefined {
    return this.#byKid.get(kid);
  }

  /** All keys (retired ones included), for inspection. */
  get keys(): readonly TokenKey[] {
    return this.#keys;
  }
}

/** A fresh key as a JWK, created now. */
export function generateJwk(kid?: string, now: number = Date.now()): TokenJwk {
  const id = kid ?? `k${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(1).toString('hex')}`;
  return { kty: 'oct', kid: id, use: 'enc', alg: 'A256GCM', k: randomBytes(32).toString('base64url'), iat: Math.floor(now / 1000) };
}
