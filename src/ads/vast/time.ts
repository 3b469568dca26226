/**
 * VAST time values: `<Duration>`, `skipoffset`, tracking `offset`, Icon `offset`, and
 * the `HH:MM:SS.mmm` timecode that playhead macros are written in.
 */

// VAST 4.x <Duration> and the skipoffset attribute of <Linear>: "HH:MM:SS" or "HH:MM:SS.mmm".
// Hours may have more than two digits; the fraction is read as a decimal fraction.
const TIMECODE = /^(\d+):([0-5]?\d):([0-5]?\d)(?:\.(\d+))?$/;
// Some ad servers send a bare number of seconds ("30"), as vast-client-js tolerates.
const SECONDS = /^\d+(?:\.\d+)?$/;
const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/**
 * Milliseconds of a VAST timecode (`00:01:30.123` → 90123), or of a bare number of
 * seconds; null for anything else, so a malformed value never becomes a wrong time.
 */
export function parseTimecode(value: string | null): number | null {
  if (value === null) return null;
  const text = value.trim();
  const match = TIMECODE.exec(text);
  if (match !== null) {
    const [, h, m, s, fraction] = match;
    const ms = fraction === undefined ? 0 : Math.round(Number(`0.${fraction}`) * 1000);
    return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + ms;
  }
  if (SECONDS.test(text)) return Math.round(Number(text) * 1000);
  return null;
}

/** A parsed offset: a time into the creative, or a share of its duration. */
export type Offset = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'percent'; readonly percent: number };

/** Parses an offset (`00:00:05.000` or `25%`); null when it is neither. */
export function parseOffset(value: string | null): Offset | null {
  if (value === null) return null;
  const text = value.trim();
  const percent = PERCENT.exec(text);
  if (percent !== null) {
    const share = Number(percent[1]);
    return share <= 100 ? { kind: 'percent', percent: share } : null;
  }
  const ms = parseTimecode(text);
  return ms === null ? null : { kind: 'time', ms };
}

/**
 * The skip offset in milliseconds: a time as is, a percentage of `durationMs`
 * (null when the duration is unknown), null when the offset is absent or malformed.
 */
export function offsetToMs(value: string | null, durationMs: number | null): number | null {
  const offset = parseOffset(value);
  if (offset === null) return null;
  if (offset.kind === 'time') return offset.ms;
  return durationMs === null ? null : Math.round((offset.percent / 100) * durationMs);
}

/** Formats milliseconds as the `HH:MM:SS.mmm` timecode of the IAB playhead macros. */
export function formatTimecode(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor(total / 60_000) % 60;
  const seconds = Math.floor(total / 1000) % 60;
  const millis = total % 1000;
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(millis, 3)}`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
