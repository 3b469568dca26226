/**
 * Keys for identifier hashing (HMAC-SHA256). Keys rotate: the newest hashes, and its
 * id is recorded on every event (`hashKeyId`) so analysts can tell which hashes are
 * comparable. Keys come from `pipeline.hashKeys` (QUARTILE_PIPELINE_HASH_KEYS), or are
 * generated into the data directory for a one-machine setup.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { QuartileConfig } from '../../src/config/spec.ts';
import { QuartileError } from '../../src/core/errors.ts';
import { loadOrCreateSecretFile } from '../../src/core/secret-file.ts';

/** One hashing key. */
export interface HashKey {
  readonly kid: string;
  readonly secret: Buffer;
  readonly createdAt: string;
}

interface StoredKey {
  readonly kid: string;
  readonly secret: string;
  readonly createdAt: string;
}

function parse(stored: unknown, where: string): HashKey {
  const list = stored as StoredKey[];
  if (!Array.isArray(list) || list.length === 0) {
    throw new QuartileError('CONFIG_INVALID_VALUE', `${where} must be a JSON list of {"kid","secret","createdAt"} with at least one key.`);
  }
  const keys = list.map((k, i) => {
    const secret = typeof k.secret === 'string' ? Buffer.from(k.secret, 'base64url') : Buffer.alloc(0);
    if (typeof k.kid !== 'string' || k.kid === '' || secret.length < 32) {
      throw new QuartileError('CONFIG_INVALID_VALUE', `${where}[${i}] needs a "kid" and a "secret" of at least 32 bytes (base64url).`);
    }
    return { kid: k.kid, secret, createdAt: typeof k.createdAt === 'string' ? k.createdAt : '' };
  });
  // The newest key hashes.
  return keys.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a));
}

/** The key to hash with now. */
export function loadHashKey(config: QuartileConfig): HashKey {
  if (config.pipeline.hashKeys !== '') {
    let value: unknown;
    try {
      value = JSON.parse(config.pipeline.hashKeys);
    } catch {
      throw new QuartileError('CONFIG_INVALID_VALUE', 'pipeline.hashKeys is not valid JSON.');
    }
    return parse(value, 'pipeline.hashKeys');
  }
  const path = join(resolve(config.dataDir), 'keys', 'hash-keys.json');
  const { value } = loadOrCreateSecretFile<StoredKey[]>(path, () => [
    { kid: `h${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`, secret: randomBytes(32).toString('base64url'), createdAt: new Date().toISOString() },
  ]);
  return parse(value, path);
}
