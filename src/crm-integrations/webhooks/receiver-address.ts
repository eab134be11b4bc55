import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a tenant's webhooks may go. A tenant token sets the URL, so without this check it could make the service
 * POST into its own network (the database, a cloud metadata endpoint, an admin port on localhost). Addresses in
 * these ranges are refused unless the host allows them (a backend on the same private network, tests, the demo).
 */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** True for a loopback, private, link-local, shared, multicast or unspecified address (IPv4-mapped included). */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NOT_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? NOT_PUBLIC.check(mapped[1], 'ipv4') : NOT_PUBLIC.check(address, 'ipv6');
}

const hostOf = (url: string): string => new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();

const isLocalName = (host: string): boolean =>
  host === 'localhost' ||
  host.endsWith('.localhost') ||
  host.endsWith('.local') ||
  host.endsWith('.internal');

/** Why a URL as written may not receive webhooks (an address or a local name), or null. No DNS is asked. */
export function writtenReceiverProblem(url: string): string | null {
  const host = hostOf(url);
  if (isLocalName(host) || isNonPublicAddress(host)) {
    return `url must reach a public address (${host} is local or private)`;
  }
  return null;
}

/**
 * Why a URL may not receive webhooks now: as written, or because its name resolves to a non-public address (checked
 * at each send, so a name changed after it was saved is caught too). Null when it may.
 */
export async function resolvedReceiverProblem(
  url: string,
  resolve: (host: string) => Promise<{ address: string }[]> = (host) =>
    lookup(host, { all: true, verbatim: true }),
): Promise<string | null> {
  const written = writtenReceiverProblem(url);
  if (written) return written;
  const host = hostOf(url);
  if (isIP(host)) return null;
  const addresses = await resolve(host);
  const inside = addresses.find(({ address }) => isNonPublicAddress(address));
  return inside ? `url must reach a public address (${host} resolves to ${inside.address})` : null;
}
