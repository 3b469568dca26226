/**
 * The viewer key frequency caps count on: a keyed hash of the profile id, or of the
 * device id when there is no profile. The pipeline computes it from events and the
 * Ads Manager from decision requests, with the same key, so both meet on the same
 * counters without either storing a raw id.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { QuartileConfig } from '../../config/spec.ts';
import { QuartileError } from '../../core/errors.ts';
import { loadOrCreateSecretFile } from '../../core/secret-file.ts';

/** The HMAC key is at least this long. */
const MIN_KEY_BYTES = 32;

/**
 * `p:` + base64url(HMAC-SHA256(key, "p\0" + profileId))[first 16 bytes], else the same
 * with `d:` for the device id; null when the viewer has neither (no caps apply).
 * The prefix goes into the MAC too, so a profile id can never equal a device id's key.
 */
export function profileKeyOf(hashKey: Buffer, profileId: string | null, deviceId: string | null): string | null {
  const [kind, id] = profileId !== null && profileId !== '' ? ['p', profileId] : deviceId !== null && deviceId !== '' ? ['d', deviceId] : [null, null];
  if (kind === null) return null;
  const mac = createHmac('sha256', hashKey).update(`${kind}\0${id}`).digest();
  return `${kind}:${mac.subarray(0, 16).toString('base64url')}`;
}

/**
 * The cap hash key: `ads.capKeySecret` (base64 or base64url of at least 32 bytes) when
 * set, else a key generated once into dataDir/keys/cap-key.json (one machine only;
 * several processes must share a configured secret).
 */
export function loadCapKey(config: QuartileConfig): Buffer {
  const configured = config.ads.capKeySecret;
  if (configured !== '') {
    const key = Buffer.from(configured.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
    if (key.length < MIN_KEY_BYTES) {
      throw new QuartileError('CONFIG_INVALID_VALUE', `Config key "ads.capKeySecret" must be base64 of at least ${MIN_KEY_BYTES} random bytes (e.g. \`openssl rand -base64 32\`).`);
    }
    return key;
  }
  const path = join(resolve(config.dataDir), 'keys', 'cap-key.json');
  const { value } = loadOrCreateSecretFile(path, () => ({ k: randomBytes(MIN_KEY_BYTES).toString('base64url'), iat: Math.floor(Date.now() / 1000) }));
  const key = Buffer.from(String((value as { k?: unknown }).k ?? ''), 'base64url');
  if (key.length < MIN_KEY_BYTES) throw new QuartileError('CONFIG_INVALID_VALUE', `The cap key file ${path} is damaged; delete it to generate a new one, or set ads.capKeySecret.`);
  return key;
}
