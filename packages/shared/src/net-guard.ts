/**
 * SSRF guard for caller-supplied URLs (webhooks). A URL is refused unless every address it
 * resolves to is public, or is listed in the allow-list (WEBHOOK_ALLOWED_HOSTS, which local
 * development and tests use for loopback). Checked twice: when the request is accepted, and at
 * connect time through `guardedLookup`, so a name that re-resolves to a private address (DNS
 * rebinding) is refused before any socket opens.
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'reserved';

type V4Range = [base: number, bits: number, cls: AddressClass];
const V4: V4Range[] = [
  [0x00000000, 8, 'unspecified'],
  [0x0a000000, 8, 'private'],
  [0x64400000, 10, 'cgnat'],
  [0x7f000000, 8, 'loopback'],
  [0xa9fe0000, 16, 'link-local'],
  [0xac100000, 12, 'private'],
  [0xc0000000, 24, 'reserved'],
  [0xc0000200, 24, 'reserved'],
  [0xc0586300, 24, 'reserved'], // 192.88.99.0/24, former 6to4 relay anycast
  [0xc0a80000, 16, 'private'],
  [0xc6120000, 15, 'reserved'],
  [0xc6336400, 24, 'reserved'],
  [0xcb007100, 24, 'reserved'],
  [0xe0000000, 4, 'multicast'],
  [0xf0000000, 4, 'reserved'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function classifyV4Int(n: number): AddressClass {
  for (const [base, bits, cls] of V4) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return cls;
  }
  return 'public';
}

/** Expands an IPv6 literal (with optional embedded IPv4 tail) into 8 16-bit groups. */
function v6Groups(ip: string): number[] {
  let text = ip.split('%')[0] ?? ip;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail?.[1]) {
    const n = v4ToInt(v4Tail[1]);
    text = text.slice(0, -v4Tail[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function classifyV6(ip: string): AddressClass {
  const g = v6Groups(ip);
  const at = (i: number) => g[i] ?? 0;
  const embeddedV4 = (hi: number, lo: number) => classifyV4Int(((at(hi) << 16) >>> 0) + at(lo));
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && at(7) === 1) return 'loopback';
  if (zeros(0, 5) && at(5) === 0xffff) return embeddedV4(6, 7); // ::ffff:a.b.c.d
  if (zeros(0, 4) && at(4) === 0xffff && at(5) === 0) return embeddedV4(6, 7); // ::ffff:0:a.b.c.d (SIIT)
  if (zeros(0, 6)) return 'reserved'; // deprecated IPv4-compatible ::a.b.c.d
  if (at(0) === 0x64 && at(1) === 0xff9b && zeros(2, 6)) return embeddedV4(6, 7); // NAT64
  if (at(0) === 0x64 && at(1) === 0xff9b && at(2) === 1) return 'private'; // local-use NAT64, 64:ff9b:1::/48
  if (at(0) === 0x2001 && at(1) === 0) return 'reserved'; // Teredo, 2001::/32: tunnels to any IPv4
  if (at(0) === 0x2002) return embeddedV4(1, 2); // 6to4
  const first = at(0);
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((first & 0xff00) === 0xff00) return 'multicast';
  if (first === 0x2001 && at(1) === 0x0db8) return 'reserved'; // documentation
  if (first === 0x0100 && zeros(1, 4)) return 'reserved'; // discard-only
  return 'public';
}

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 4) return classifyV4Int(v4ToInt(ip));
  if (family === 6) return classifyV6(ip);
  throw new TypeError(`not an IP address: ${ip}`);
}

export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
  readonly address: string;
  readonly addressClass: AddressClass;
  constructor(host: string, address: string, cls: AddressClass) {
    super(`${host} resolves to ${address}, a ${cls} address, which webhooks may not reach`);
    this.address = address;
    this.addressClass = cls;
  }
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export interface AddressPolicy {
  /** Hostnames or IP addresses that may be reached whatever their class. */
  allowedHosts: readonly string[];
}

function allowedEntries(policy: AddressPolicy): Set<string> {
  return new Set(policy.allowedHosts.map((h) => stripBrackets(h.toLowerCase())));
}

/** Throws ForbiddenAddressError unless `address` (reached as `host`) may be contacted. */
export function assertAddressAllowed(host: string, address: string, policy: AddressPolicy): void {
  const allowed = allowedEntries(policy);
  const h = stripBrackets(host.toLowerCase());
  if (allowed.has(h) || allowed.has(address.toLowerCase())) return;
  const cls = classifyAddress(address);
  if (cls !== 'public') throw new ForbiddenAddressError(host, address, cls);
}

export const FORBIDDEN_REASON = 'is not allowed: its host is, or resolves to, an address webhooks may not reach';

type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });

/**
 * Request-time check of a URL: its scheme, and every address its host resolves to.
 * Resolution failure is not a refusal here (DNS may be down for a moment); connect time decides.
 */
export async function checkUrl(
  raw: string,
  policy: AddressPolicy,
  resolve: Resolver = systemResolver,
): Promise<{ ok: true } | { ok: false; reason: string; detail?: string }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'must use http or https' };
  const host = stripBrackets(url.hostname);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      return { ok: true };
    }
  }
  try {
    for (const address of addresses) assertAddressAllowed(host, address, policy);
  } catch (err) {
    // The caller learns that the host is refused, never which address it resolved to.
    if (err instanceof ForbiddenAddressError) return { ok: false, reason: FORBIDDEN_REASON, detail: err.message };
    throw err;
  }
  return { ok: true };
}

/** The shape of dns.lookup with `all: true`, which guardedLookup wraps. */
export type LookupAll = (
  hostname: string,
  options: { all: true; verbatim: true; family?: number },
  callback: (err: NodeJS.ErrnoException | null, addresses: Array<{ address: string; family: number }>) => void,
) => void;

/**
 * A `lookup` for net/tls/undici connections that refuses forbidden addresses before connecting:
 * the socket only ever receives an address this function checked.
 */
export function guardedLookup(policy: AddressPolicy, lookupAll: LookupAll = dnsLookup): LookupFunction {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    lookupAll(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err);
      try {
        for (const a of addresses) assertAddressAllowed(hostname, a.address, policy);
      } catch (guardErr) {
        return callback(guardErr);
      }
      const all = (options as { all?: boolean }).all === true;
      if (all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`no address for ${hostname}`));
      callback(null, first.address, first.family);
    });
  }) as LookupFunction;
}
