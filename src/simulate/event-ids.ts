/**
 * Event ids of a simulation: derived from the run key and the event's beacon cell, so
 * a retry re-sends the same id (as a device SDK would) and two runs with the same seed
 * never collide in the engine's deduplication window.
 */
import { createHash } from 'node:crypto';

function uuidOf(digest: Buffer): string {
  digest[6] = (digest[6]! & 0x0f) | 0x40;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const h = digest.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The id of the valid event in `cell`. */
export function eventIdOf(runKey: string, cell: number): string {
  return uuidOf(createHash('md5').update(`${runKey}:${cell}`).digest());
}

/** The id of the `n`-th bad event of a viewer's break. */
export function badEventIdOf(runKey: string, viewer: number, breakIndex: number, n: number): string {
  return uuidOf(createHash('md5').update(`${runKey}:bad:${viewer}:${breakIndex}:${n}`).digest());
}
