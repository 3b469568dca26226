/** Times given by people on the command line or in a query: ISO 8601, epoch ms, or "how long ago" (30m, 2h, 7d). */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Epoch ms for `value`, or undefined when it is absent; throws on nonsense. */
export function parseSince(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ago = /^(\d+)([smhd])$/.exec(value.trim());
  if (ago !== null) return now - Number(ago[1]) * UNITS[ago[2]!]!;
  if (/^\d{10,}$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    // statusCode: an HTTP route that passes a query value through answers 400.
    throw Object.assign(new RangeError(`"${value}" is not a time: use ISO 8601 (2026-11-25T20:00:00Z), epoch ms, or an age such as 30m, 2h or 7d.`), { statusCode: 400 });
  }
  return parsed;
}
