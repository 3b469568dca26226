/**
 * Fresh random 96-bit AES-GCM IVs, drawn in bulk: one call to the system's random
 * source per 1024 IVs rather than per seal. Each IV is a distinct slice of random
 * bytes, so none is ever reused under a key.
 */
import { randomBytes } from 'node:crypto';

export const IV_BYTES = 12;
const PER_DRAW = 1024;

export class GcmIvs {
  #ivs = Buffer.alloc(0);
  #at = 0;

  next(): Buffer {
    if (this.#at + IV_BYTES > this.#ivs.length) {
      this.#ivs = randomBytes(IV_BYTES * PER_DRAW);
      this.#at = 0;
    }
    const iv = this.#ivs.subarray(this.#at, this.#at + IV_BYTES);
    this.#at += IV_BYTES;
    return iv;
  }
}
