/**
 * The SSRF guard for every outbound request Quartile makes on behalf of a third party:
 * VAST wrapper URIs now, vendor tracking pixels later. A VAST response is untrusted
 * input, and a wrapper or pixel URI pointing at 127.0.0.1, a private network or the
 * cloud metadata service (169.254.169.254) would otherwise make us reach inside our own
 * network (OWASP SSRF Prevention Cheat Sheet).
 *
 * The check is made on the address actually connected to: host names are resolved by
 * a guarded `lookup` that refuses non-public answers, and IP literals (which skip
 * lookup) are checked by the connector. So a public name whose DNS answer is 127.0.0.1,
 * a redirect to a private address, or a DNS answer that changes between check and use
 * (rebinding) are all refused.
 */
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { buildConnector } from 'undici';
import { QuartileError } from '../core/errors.ts';

/** What the guard lets through. */
export interface SsrfPolicy {
  /** Allow loopback, private, link-local and metadata addresses (tests, on-premise ad servers). */
  readonly allowPrivateNetwork: boolean;
}

const ALLOWED_SCHEMES = new Set(['http:', 'https:']);

// Special-purpose ranges: IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890).
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT; also Alibaba's metadata service 100.100.100.200
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local; cloud metadata services live at 169.254.169.254
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local; AWS's IPv6 metadata service fd00:ec2::254 is here
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routable inside some networks)
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/**
 * True when `address` (an IPv4 or IPv6 literal) is an ordinary public unicast
 * address. IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4)
 * are judged by the IPv4 address inside them.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !BLOCKED.check(address, 'ipv4');
  if (family !== 6) return false;
  const embedded = embeddedIpv4(address);
  if (embedded !== null) return !BLOCKED.check(embedded, 'ipv4');
  return !BLOCKED.check(address, 'ipv6');
}

/**
 * Parses `url` and checks what can be checked before connecting: an absolute URL,
 * http or https, and, when the host is an IP literal, a public one. Throws a
 * QuartileError (NET_URL_INVALID, NET_SCHEME_REFUSED, NET_ADDRESS_REFUSED).
 */
export function checkUrl(url: string | URL, policy: SsrfPolicy): URL {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch (cause) {
    throw new QuartileError('NET_URL_INVALID', `Not an absolute URL: ${url}`, { cause });
  }
  if (!ALLOWED_SCHEMES.has(parsed.protocol)) {
    throw new QuartileError('NET_SCHEME_REFUSED', `Only http and https URLs are fetched, not ${parsed.protocol} (${parsed.href}).`);
  }
  const host = unbracket(parsed.hostname);
  if (isIP(host) !== 0) assertAddressAllowed(host, policy);
  return parsed;
}

/**
 * A `lookup` for net.connect that resolves every address of the host and refuses the
 * host when any answer is not public: a name that answers both a public and a private
 * address is as dangerous as one that answers only the private one.
 */
export function guardedLookup(policy: SsrfPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error !== null) {
        callback(error, '', 0);
        return;
      }
      if (!policy.allowPrivateNetwork) {
        const refused = addresses.find((a) => !isPublicAddress(a.address));
        if (refused !== undefined) {
          callback(addressRefused(`${hostname} resolves to ${refused.address}`), '', 0);
          return;
        }
      }
      if (options.all === true) {
        (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (first === undefined) callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      else callback(null, first.address, first.family);
    });
  };
}

/** Options for {@link guardedConnector}. */
export interface GuardedConnectorOptions extends SsrfPolicy {
  /** Milliseconds allowed to establish the connection (TCP and TLS). */
  readonly connectTimeoutMs: number;
}

/**
 * An undici connector that applies the guard to the address actually connected to.
 * Use it as `new Agent({ connect: guardedConnector(…) })`.
 */
export function guardedConnector(options: GuardedConnectorOptions): buildConnector.connector {
  const connect = buildConnector({ lookup: guardedLookup(options), timeout: options.connectTimeoutMs });
  return (connectOptions, callback) => {
    // net.connect never calls lookup for an IP literal, so literals are checked here.
    const host = unbracket(connectOptions.hostname);
    if (isIP(host) !== 0) {
      try {
        assertAddressAllowed(host, options);
      } catch (error) {
        callback(error as Error, null);
        return;
      }
    }
    connect(connectOptions, callback);
  };
}

function assertAddressAllowed(address: string, policy: SsrfPolicy): void {
  if (!policy.allowPrivateNetwork && !isPublicAddress(address)) throw addressRefused(address);
}

function addressRefused(what: string): QuartileError {
  return new QuartileError(
    'NET_ADDRESS_REFUSED',
    `Refused ${what}: loopback, private, link-local and metadata addresses are not fetched (allow them with --allow-private-network).`,
  );
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 address. */
function embeddedIpv4(address: string): string | null {
  const words = ipv6Words(address);
  if (words === null) return null;
  const [w0, w1, w2, w3, w4, w5, w6, w7] = words as [number, number, number, number, number, number, number, number];
  const zeroHigh = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0;
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, but not :: and ::1 themselves).
  if (zeroHigh && (w5 === 0xffff || (w5 === 0 && (w6 !== 0 || w7 > 1)))) return dotted(w6, w7);
  // 64:ff9b::a.b.c.d, the NAT64 well-known prefix (RFC 6052).
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return dotted(w6, w7);
  // 2002:AABB:CCDD::/48, 6to4 (RFC 3056).
  if (w0 === 0x2002) return dotted(w1, w2);
  return null;
}

function dotted(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The eight 16-bit words of an IPv6 literal (already validated by isIP). */
function ipv6Words(address: string): number[] | null {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  // A trailing dotted quad (::ffff:127.0.0.1) is two words written in decimal.
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => Number.parseInt(w, 16)));
  const before = parse(head);
  const after = rest === undefined ? [] : parse(rest);
  const missing = 8 - before.length - after.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return null;
  return [...before, ...new Array<number>(missing).fill(0), ...after];
}
