/**
 * [CACHEBUSTING] of a beacon: an 8-digit number derived from the beacon's ledger id
 * (event or ad play, vendor, URI), not drawn at random per request. A retry — and a
 * re-send after a process died between the vendor's answer and the ledger write — is
 * then the same request byte for byte, so a vendor that deduplicates by URL counts it
 * once, while two different beacons still differ (the macro's purpose: no cache
 * between us and the vendor answers one beacon with another's response).
 */
export function cacheBusterOf(beaconId: string): string {
  // FNV-1a, 32 bits: cheap, and well spread over ids that differ in a few characters.
  let h = 0x811c9dc5;
  for (let i = 0; i < beaconId.length; i++) {
    h ^= beaconId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return String(10_000_000 + ((h >>> 0) % 90_000_000));
}
