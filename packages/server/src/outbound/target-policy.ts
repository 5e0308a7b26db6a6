import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { AppError } from '../errors.js';

/**
 * Where the server may send requests that someone with a token aimed: webhook and Slack
 * channels (SUPER_ADMIN) and a metric definition's own `prometheusUrl` (OPERATOR). Without
 * this, those features let a token holder probe the server's internal network and cloud
 * metadata endpoints (169.254.169.254) from the inside.
 */
export interface TargetPolicy {
  /** RAMPART_ALLOW_PRIVATE_TARGETS: nothing is refused (the behaviour before the policy). */
  readonly allowPrivate: boolean;
  /** RAMPART_ALLOWED_TARGET_NETWORKS: CIDRs (or single addresses) allowed although private. */
  readonly allowedNetworks: readonly string[];
}

/** The default: every private, loopback, link-local and unique-local address is refused. */
export const CLOSED_POLICY: TargetPolicy = { allowPrivate: false, allowedNetworks: [] };

const PRIVATE_NETWORKS: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], // "this network": 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT; some clouds put metadata services here
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, where cloud metadata endpoints live
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
];

/** Node's BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against IPv4 rules. */
const PRIVATE = new BlockList();
for (const [net, prefix, family] of PRIVATE_NETWORKS) PRIVATE.addSubnet(net, prefix, family);

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Parses `10.1.0.0/16`, `fd00::/8` or a single address; undefined when it is none of those. */
export function parseNetwork(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  return prefix <= max ? { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' } : undefined;
}

/** True when the address is in one of the private ranges, whatever the policy. */
export function isPrivateAddress(address: string): boolean {
  return PRIVATE.check(address, familyOf(address));
}

/** A predicate: may the server connect to this IP address under the policy? */
export function addressFilter(policy: TargetPolicy): (address: string) => boolean {
  if (policy.allowPrivate) return () => true;
  const allowed = new BlockList();
  for (const text of policy.allowedNetworks) {
    const net = parseNetwork(text);
    // config.ts validates the list; a bad entry here is a programming error, not input.
    if (!net) throw new Error(`Not a network: ${text}`);
    allowed.addSubnet(net.address, net.prefix, net.family);
  }
  return (address) => !isPrivateAddress(address) || allowed.check(address, familyOf(address));
}

export class TargetRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      host === address
        ? `${address} is a private, loopback or link-local address; the server refuses to send requests there (RAMPART_ALLOWED_TARGET_NETWORKS or RAMPART_ALLOW_PRIVATE_TARGETS allow it)`
        : `${host} resolves to ${address}, a private, loopback or link-local address; the server refuses to send requests there (RAMPART_ALLOWED_TARGET_NETWORKS or RAMPART_ALLOW_PRIVATE_TARGETS allow it)`,
    );
    this.name = 'TargetRefusedError';
  }
}

/** A URL's host without IPv6 brackets: `[::1]` → `::1`. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

export type Resolve = (host: string) => Promise<LookupAddress[]>;

const resolveAll: Resolve = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * Checks every address the URL's host resolves to now (one private address is enough to
 * refuse: the connection may pick any of them). Throws TargetRefusedError; a name that does
 * not resolve is not refused here (a send would fail anyway, and is checked again then).
 */
export async function checkTarget(url: string, policy: TargetPolicy, resolve: Resolve = resolveAll): Promise<void> {
  if (policy.allowPrivate) return;
  const allowed = addressFilter(policy);
  const host = hostOf(new URL(url));
  if (isIP(host)) {
    if (!allowed(host)) throw new TargetRefusedError(host, host);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return;
  }
  const refused = addresses.find((a) => !allowed(a.address));
  if (refused) throw new TargetRefusedError(host, refused.address);
}

/**
 * A `lookup` for http.request that resolves the name, checks every address and hands the
 * socket only checked addresses: the connection goes to what was checked, so a name whose
 * DNS answer changes between the check and the connect (DNS rebinding) gains nothing.
 */
export function guardedLookup(allowed: (address: string) => boolean): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const refused = addresses.find((a) => !allowed(a.address));
      if (refused) return callback(new TargetRefusedError(hostname, refused.address) as NodeJS.ErrnoException, '', 4);
      if (addresses.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * Refuses, when saved, a URL whose host is or resolves to an address the policy refuses, so
 * whoever saves it hears of it now rather than from a failed delivery. Sends check again.
 */
export async function requireAllowedTarget(url: string, policy: TargetPolicy, path: string): Promise<void> {
  try {
    await checkTarget(url, policy);
  } catch (err) {
    if (!(err instanceof TargetRefusedError)) throw err;
    throw new AppError('TARGET_NOT_ALLOWED', err.message, [{ path, message: 'a private, loopback or link-local address', host: err.host, address: err.address }]);
  }
}
