/** `quartile keys generate` and `quartile token inspect`, run as an operator would. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenKeyring } from '../../../src/ads/tokens/keyring.ts';
import { TokenService } from '../../../src/ads/tokens/token-service.ts';
import { cleanEnv, CLI } from '../../helpers/engine-process.ts';

function quartile(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const base = cleanEnv();
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...base, ...env }, timeout: 30_000 });
}

describe('quartile keys and token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quartile-keys-'));

  it('generates a key set, rotates it, and inspects tokens made with it', async () => {
    const first = quartile(['keys', 'generate', '--kid', 'old']);
    assert.equal(first.status, 0, first.stderr);
    const file = join(dir, 'jwks.json');
    writeFileSync(file, first.stdout);
    const rotated = quartile(['keys', 'generate', '--rotate', file, '--kid', 'new']);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.deepEqual((JSON.parse(rotated.stdout) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid), ['old', 'new']);

    const tokens = new TokenService(TokenKeyring.fromJwks(first.stdout), { ttlSeconds: 3600, binding: 'none' });
    const token = await tokens.mint({ mid: 'AAECAwQFBgcICQoLDA0ODw', ad: 'a', cr: 'c', cmp: 'k', seq: 1, brk: null });
    const inspected = quartile(['token', 'inspect', token], { QUARTILE_TOKENS_JWKS: rotated.stdout, QUARTILE_DATA_DIR: dir });
    assert.equal(inspected.status, 0, inspected.stderr);
    const report = JSON.parse(inspected.stdout) as { valid: boolean; header: { kid: string }; claims: { cmp: string } };
    assert.equal(report.valid, true);
    assert.equal(report.header.kid, 'old', 'a token from before the rotation still inspects as valid');
    assert.equal(report.claims.cmp, 'k');

    const retired = quartile(['keys', 'generate', '--rotate', file, '--kid', 'newer', '--retire', 'old']);
    const refused = quartile(['token', 'inspect', token], { QUARTILE_TOKENS_JWKS: retired.stdout, QUARTILE_DATA_DIR: dir });
    assert.equal(refused.status, 1);
    assert.equal((JSON.parse(refused.stdout) as { code: string }).code, 'DECRYPT_TOKEN_UNKNOWN_KID');
  });

  it('says what to do when a key set is unusable', () => {
    const result = quartile(['token', 'inspect', 'x.y.z'], { QUARTILE_TOKENS_JWKS: '{"keys":[]}', QUARTILE_DATA_DIR: dir });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /TOKEN_KEYS_INVALID.*quartile keys generate/);
  });
});
