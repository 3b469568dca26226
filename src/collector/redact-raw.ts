/**
 * What the rejected topic keeps of a refused event: the event as sent, so a device
 * team can see what was wrong, but with the raw device identifiers blanked, since
 * raw IPs, user agents and ids must never reach storage.
 */

const IDENTIFIERS = ['ip', 'userAgent', 'ifa', 'deviceId', 'profileId'] as const;

/** The event's JSON with `device` identifiers replaced by "[redacted]". */
export function redactedJson(event: unknown): Buffer {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return Buffer.from(JSON.stringify(event) ?? 'undefined');
  const copy = { ...(event as Record<string, unknown>) };
  const device = copy['device'];
  if (device !== null && typeof device === 'object' && !Array.isArray(device)) {
    const d = { ...(device as Record<string, unknown>) };
    for (const key of IDENTIFIERS) if (d[key] !== undefined && d[key] !== null) d[key] = '[redacted]';
    copy['device'] = d;
  } else if (device !== undefined) {
    copy['device'] = '[redacted]';
  }
  return Buffer.from(JSON.stringify(copy));
}
