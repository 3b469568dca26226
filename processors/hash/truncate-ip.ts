/**
 * IP truncation before hashing: IPv4 to its /24, IPv6 to its /48, so the hash names a
 * network, not a household. IPv4-mapped IPv6 addresses are treated as IPv4.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The truncated network of `ip`, or null when it is not an IP address. */
export function truncateIp(ip: string | null): string | null {
  if (ip === null) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped?.[1] ?? ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return null;
  // Expand "::" so the first three groups can be read.
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::') ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  return `${groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16)).join(':')}::/48`;
}
