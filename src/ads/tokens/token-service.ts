/**
 * Opaque ad tokens: compact JWE (`alg: dir`, `enc: A256GCM`, `kid` in the protected
 * header) whose plaintext is the binary claims record of claims.ts.
 *
 * Minting goes through node-jose. Decrypting — once per event in the pipeline, and
 * tens of thousands of times a second — uses a direct node:crypto AES-256-GCM path
 * that reads exactly the compact JWE that node-jose writes (AAD = the ASCII protected
 * header, RFC 7516 §5.2); node-jose's own decrypt costs ~110 µs per token, this path
 * a few µs. Tests hold both paths to each other.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import jose from 'node-jose';
import { QuartileError } from '../../core/errors.ts';
import { decodeClaims, encodeClaims, type TokenClaims } from './claims.ts';
import type { TokenKeyring } from './keyring.ts';

/** How tokens are bound. `none` lets every viewer of a live break share one token. */
export type TokenBinding = 'none' | 'session';

/** What the token is minted for. */
export interface MintInput {
  readonly mid: string;
  readonly ad: string | null;
  readonly cr: string | null;
  readonly cmp: string | null;
  readonly seq: number;
  readonly brk: string | null;
  /** Required when binding is `session`. */
  readonly playbackSessionId?: string;
}

/** A decrypted token's protected header. */
interface Header {
  readonly alg: string;
  readonly enc: string;
  readonly kid: string;
}

/** Hash of a playback session id carried by session-bound tokens (16 bytes, base64url). */
export function sessionHash(playbackSessionId: string): string {
  return createHash('sha256').update(`quartile-session:${playbackSessionId}`).digest().subarray(0, 16).toString('base64url');
}

function fail(code: 'DECRYPT_TOKEN_MALFORMED' | 'DECRYPT_TOKEN_UNKNOWN_KID' | 'DECRYPT_TOKEN_TAMPERED' | 'DECRYPT_TOKEN_EXPIRED' | 'DECRYPT_SESSION_MISMATCH', message: string): QuartileError {
  return new QuartileError(code, message, { stage: 'decrypt' });
}

export class TokenService {
  readonly #keyring: TokenKeyring;
  readonly #ttlSeconds: number;
  readonly binding: TokenBinding;
  /** Parsed protected headers by their base64url text: every token of a key shares one. */
  readonly #headers = new Map<string, Header>();
  #mintKey: Promise<jose.JWK.Key> | undefined;

  constructor(keyring: TokenKeyring, options: { ttlSeconds: number; binding: TokenBinding }) {
    this.#keyring = keyring;
    this.#ttlSeconds = options.ttlSeconds;
    this.binding = options.binding;
  }

  /** Mints a token for one ad. */
  async mint(input: MintInput, now: number = Date.now()): Promise<string> {
    if (this.binding === 'session' && input.playbackSessionId === undefined) {
      throw new Error('Session-bound tokens need the playback session id');
    }
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = {
      v: 1,
      mid: input.mid,
      ad: input.ad,
      cr: input.cr,
      cmp: input.cmp,
      seq: input.seq,
      brk: input.brk,
      iat,
      exp: iat + this.#ttlSeconds,
      sid: this.binding === 'session' ? sessionHash(input.playbackSessionId!) : null,
    };
    const key = this.#keyring.encryptionKey;
    this.#mintKey ??= jose.JWK.asKey({ kty: 'oct', kid: key.kid, k: key.secret.toString('base64url'), alg: 'A256GCM', use: 'enc' });
    const encrypt = jose.JWE.createEncrypt(
      { format: 'compact', contentAlg: 'A256GCM', fields: { alg: 'dir', enc: 'A256GCM', kid: key.kid } },
      // `reference: false` keeps node-jose from adding its own key reference; the kid
      // is set in `fields`. (@types/node-jose does not know this recipient form.)
      { key: await this.#mintKey, reference: false } as unknown as jose.JWK.Key,
    );
    return (await encrypt.update(encodeClaims(claims)).final()) as unknown as string;
  }

  #header(encoded: string): Header {
    let header = this.#headers.get(encoded);
    if (header === undefined) {
      let parsed: Partial<Header>;
      try {
        parsed = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<Header>;
      } catch {
        throw fail('DECRYPT_TOKEN_MALFORMED', 'The token header is not base64url JSON.');
      }
      if (parsed.alg !== 'dir' || parsed.enc !== 'A256GCM' || typeof parsed.kid !== 'string') {
        throw fail('DECRYPT_TOKEN_MALFORMED', 'The token header must say alg "dir", enc "A256GCM" and name a kid.');
      }
      header = parsed as Header;
      if (this.#headers.size < 64) this.#headers.set(encoded, header);
    }
    return header;
  }

  /**
   * Decrypts and checks a token. Throws QuartileErrors: DECRYPT_TOKEN_MALFORMED,
   * DECRYPT_TOKEN_UNKNOWN_KID, DECRYPT_TOKEN_TAMPERED, DECRYPT_TOKEN_EXPIRED, and
   * DECRYPT_SESSION_MISMATCH when a session-bound token comes from another session.
   */
  decrypt(token: string, options: { playbackSessionId?: string; now?: number; ignoreExpiry?: boolean } = {}): TokenClaims {
    const parts = token.split('.');
    if (parts.length !== 5 || parts[1] !== '') throw fail('DECRYPT_TOKEN_MALFORMED', 'The token is not a compact JWE with direct encryption (5 parts, empty key).');
    const header = this.#header(parts[0]!);
    const key = this.#keyring.decryptionKey(header.kid);
    if (key === undefined) throw fail('DECRYPT_TOKEN_UNKNOWN_KID', `The token's key ${header.kid} is not in the key set (retired, or not Quartile's).`);
    const iv = Buffer.from(parts[2]!, 'base64url');
    const tag = Buffer.from(parts[4]!, 'base64url');
    if (iv.length !== 12 || tag.length !== 16) throw fail('DECRYPT_TOKEN_MALFORMED', 'The token IV or tag has the wrong length.');
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.secret, iv);
      decipher.setAAD(Buffer.from(parts[0]!, 'ascii'));
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]);
    } catch {
      throw fail('DECRYPT_TOKEN_TAMPERED', 'The token failed authentication: it was altered or made with another key.');
    }
    const claims = decodeClaims(plain);
    const now = options.now ?? Date.now();
    if (options.ignoreExpiry !== true && claims.exp * 1000 <= now) {
      throw fail('DECRYPT_TOKEN_EXPIRED', `The token expired at ${new Date(claims.exp * 1000).toISOString()}.`);
    }
    if (claims.sid !== null && options.playbackSessionId !== undefined && claims.sid !== sessionHash(options.playbackSessionId)) {
      throw fail('DECRYPT_SESSION_MISMATCH', 'This token is bound to another playback session.');
    }
    return claims;
  }

  /** The protected header of a token, without decrypting it. */
  header(token: string): Header {
    return this.#header(token.split('.')[0] ?? '');
  }
}
