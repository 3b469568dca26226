/**
 * Secrets for the embedded, one-machine setup. When no key set is configured,
 * Quartile generates one into the data directory (mode 0600) and reuses it on every
 * start, so tokens and hashes survive restarts. Deployments with several processes
 * must configure the same keys in every process instead (QUARTILE_* variables or a
 * config file): a generated key is private to one data directory.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Reads the JSON secret at `path`, creating it with `create()` when it does not exist. */
export function loadOrCreateSecretFile<T>(path: string, create: () => T): { value: T; created: boolean } {
  try {
    return { value: JSON.parse(readFileSync(path, 'utf8')) as T, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = create();
  // 'wx': if another process created it meanwhile, read theirs instead.
  try {
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return { value, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { value: JSON.parse(readFileSync(path, 'utf8')) as T, created: false };
  }
}
