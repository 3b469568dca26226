/**
 * Opaque ad tokens: what a device carries must be small, unreadable, unforgeable and
 * time-limited, and keys must rotate without breaking tokens already handed out.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jose from 'node-jose';
import { TokenKeyring, generateJwk, type TokenJwk } from '../../../src/ads/tokens/keyring.ts';
import { TokenService, type MintInput } from '../../../src/ads/tokens/token-service.ts';
import { MAX_ID_BYTES } from '../../../src/ads/tokens/claims.ts';
import { isQuartileError } from '../../../src/core/errors.ts';

const NOW = Date.UTC(2026, 10, 25, 20, 0, 0);
const key1: TokenJwk = { ...generateJwk('k1', NOW - 86_400_000) };
const key2: TokenJwk = { ...generateJwk('k2', NOW) };
const input: MintInput = { mid: 'AAECAwQFBgcICQoLDA0ODw', ad: 'ad-1001', cr: 'cr-77', cmp: 'cmp-final', seq: 2, brk: 'brk-3', playbackSessionId: 'pbs-1' };

function service(keys: TokenJwk[], binding: 'none' | 'session' = 'none'): TokenService {
  return new TokenService(TokenKeyring.fromJwks({ keys }), { ttlSeconds: 3600, binding });
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isQuartileError(e) && e.code === code && e.stage === 'decrypt');
}

describe('ad tokens', () => {
  it('round-trips the claims and hides them from the device', async () => {
    const tokens = service([key1]);
    const token = await tokens.mint(input, NOW);
    assert.equal(token.split('.').length, 5);
    assert.ok(!token.includes('cmp-final') && !Buffer.from(token.split('.')[3]!, 'base64url').toString().includes('cmp-final'), 'claims are encrypted');
    assert.deepEqual(tokens.header(token), { alg: 'dir', kid: 'k1', enc: 'A256GCM' });
    const claims = tokens.decrypt(token, { now: NOW + 1000 });
    assert.deepEqual(claims, { v: 1, mid: input.mid, ad: 'ad-1001', cr: 'cr-77', cmp: 'cmp-final', seq: 2, brk: 'brk-3', iat: NOW / 1000, exp: NOW / 1000 + 3600, sid: null });
  });

  it('is a standard compact JWE: node-jose decrypts what the fast path reads', async () => {
    const tokens = service([key1]);
    const token = await tokens.mint(input, NOW);
    const store = await jose.JWK.asKeyStore({ keys: [key1] });
    const result = await jose.JWE.createDecrypt(store).decrypt(token);
    assert.equal(result.header['alg' as keyof typeof result.header], 'dir');
    assert.ok(result.plaintext.length > 16);
  });

  it('stays within 350 bytes even with the longest ids it carries, session binding and a long kid', async () => {
    const long = 'x'.repeat(MAX_ID_BYTES);
    const tokens = service([generateJwk('k-123456789a', NOW)], 'session');
    const token = await tokens.mint({ ...input, ad: long, cr: long, cmp: long, brk: long, seq: 255 }, NOW);
    assert.ok(token.length <= 350, `token is ${token.length} bytes`);
    const typical = await service([key1]).mint(input, NOW);
    assert.ok(typical.length <= 200, `a typical token is ${typical.length} bytes`);
  });

  it('leaves ids too long for the budget out of the token (the registry keeps them)', async () => {
    const tokens = service([key1]);
    const claims = tokens.decrypt(await tokens.mint({ ...input, cmp: 'c'.repeat(MAX_ID_BYTES + 1) }, NOW), { now: NOW });
    assert.equal(claims.cmp, null);
    assert.equal(claims.ad, 'ad-1001');
  });

  it('refuses a tampered token', async () => {
    const tokens = service([key1]);
    const token = await tokens.mint(input, NOW);
    const [h, k, iv, ct, tag] = token.split('.') as [string, string, string, string, string];
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expectCode(() => tokens.decrypt([h, k, iv, flipped.toString('base64url'), tag].join('.'), { now: NOW }), 'DECRYPT_TOKEN_TAMPERED');
    // The header is authenticated too: changing it (same kid) breaks the tag.
    const header = Buffer.from(JSON.stringify({ enc: 'A256GCM', alg: 'dir', kid: 'k1' })).toString('base64url');
    expectCode(() => tokens.decrypt([header, k, iv, ct, tag].join('.'), { now: NOW }), 'DECRYPT_TOKEN_TAMPERED');
  });

  it('refuses a token made with a key it does not have, naming the kid problem', async () => {
    const foreign = await service([generateJwk('zz', NOW)]).mint(input, NOW);
    expectCode(() => service([key1]).decrypt(foreign, { now: NOW }), 'DECRYPT_TOKEN_UNKNOWN_KID');
  });

  it('refuses an expired token', async () => {
    const tokens = service([key1]);
    const token = await tokens.mint(input, NOW);
    expectCode(() => tokens.decrypt(token, { now: NOW + 3600_000 }), 'DECRYPT_TOKEN_EXPIRED');
    assert.equal(tokens.decrypt(token, { now: NOW + 3600_000, ignoreExpiry: true }).mid, input.mid);
  });

  it('refuses junk as malformed', () => {
    for (const junk of ['', 'abc', 'a.b.c.d.e', 'eyJhbGciOiJub25lIn0..x.y.z']) expectCode(() => service([key1]).decrypt(junk), 'DECRYPT_TOKEN_MALFORMED');
  });

  it('binds a session token to its playback session', async () => {
    const tokens = service([key1], 'session');
    const token = await tokens.mint(input, NOW);
    assert.equal(tokens.decrypt(token, { now: NOW, playbackSessionId: 'pbs-1' }).seq, 2);
    expectCode(() => tokens.decrypt(token, { now: NOW, playbackSessionId: 'pbs-2' }), 'DECRYPT_SESSION_MISMATCH');
  });

  it('rotates keys: the newest encrypts, every unretired key decrypts, a retired one does not', async () => {
    const old = await service([key1]).mint(input, NOW);
    const rotated = service([key1, key2]);
    const fresh = await rotated.mint(input, NOW);
    assert.equal(rotated.header(fresh).kid, 'k2');
    assert.equal(rotated.decrypt(old, { now: NOW }).mid, input.mid, 'tokens from before the rotation still work');
    const retired = service([{ ...key1, retired: true }, key2]);
    expectCode(() => retired.decrypt(old, { now: NOW }), 'DECRYPT_TOKEN_UNKNOWN_KID');
    assert.equal(retired.decrypt(fresh, { now: NOW }).mid, input.mid);
  });

  const badKeys: Array<[string, unknown]> = [
    ['no keys', { keys: [] }],
    ['a short secret', { keys: [{ kty: 'oct', kid: 'a', k: 'AAAA' }] }],
    ['an RSA key', { keys: [{ kty: 'RSA', kid: 'a' }] }],
    ['a kid too long for the budget', { keys: [{ ...key1, kid: 'k'.repeat(20) }] }],
    ['only retired keys', { keys: [{ ...key1, retired: true }] }],
    ['duplicate kids', { keys: [key1, key1] }],
  ];
  for (const [what, jwks] of badKeys) {
    it(`refuses a key set with ${what}`, () => {
      assert.throws(() => TokenKeyring.fromJwks(jwks), (e: unknown) => isQuartileError(e, 'TOKEN_KEYS_INVALID') && /quartile keys generate/.test(e.message));
    });
  }
});
