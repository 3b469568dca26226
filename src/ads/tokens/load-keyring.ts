/** Finds the token keys the config names, or the generated embedded ones. */
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { QuartileConfig } from '../../config/spec.ts';
import { QuartileError } from '../../core/errors.ts';
import { loadOrCreateSecretFile } from '../../core/secret-file.ts';
import { TokenKeyring, generateJwk } from './keyring.ts';

/** Where the keys came from, for the start-up log. */
export type KeySource = 'config' | 'file' | 'generated' | 'data-dir';

/** The keyring from `tokens.jwks`, else `tokens.jwksFile`, else dataDir/keys/tokens.jwks.json. */
export function loadTokenKeyring(config: QuartileConfig): { keyring: TokenKeyring; source: KeySource; path?: string } {
  if (config.tokens.jwks !== '') return { keyring: TokenKeyring.fromJwks(config.tokens.jwks), source: 'config' };
  if (config.tokens.jwksFile !== '') {
    let text: string;
    try {
      text = readFileSync(config.tokens.jwksFile, 'utf8');
    } catch (cause) {
      throw new QuartileError('TOKEN_KEYS_INVALID', `Cannot read the token key file ${config.tokens.jwksFile}; check tokens.jwksFile.`, { cause });
    }
    return { keyring: TokenKeyring.fromJwks(text), source: 'file', path: config.tokens.jwksFile };
  }
  const path = join(resolve(config.dataDir), 'keys', 'tokens.jwks.json');
  const { value, created } = loadOrCreateSecretFile(path, () => ({ keys: [generateJwk()] }));
  return { keyring: TokenKeyring.fromJwks(value), source: created ? 'generated' : 'data-dir', path };
}
