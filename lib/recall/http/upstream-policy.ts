/**
 * Which addresses Recall may forward a request to. The upstream of an intercepted request comes from the device
 * (its Host header, SNI or DNS answers), so without a policy any device, or anything that can make a device ask,
 * could reach services that listen only on the Recall server: its loopback, its own addresses, link-local
 * services (cloud metadata at 169.254.169.254), or multicast. `HTTPClient` applies this policy to every address it
 * is about to connect to, after name resolution, so neither a name nor a DNS answer can get around it.
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { canonicalAddress } from '../dns/name-map.js';
import { RecallError } from '../errors.js';

/** The code of a refused upstream (answered 502 with `x-recall-error: ERR_RECALL_UPSTREAM_REFUSED`). */
export const UPSTREAM_REFUSED = 'ERR_RECALL_UPSTREAM_REFUSED';

const RANGES: [kind: string, prefix: string, bits: number, family: 'ipv4' | 'ipv6'][] = [
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['broadcast', '255.255.255.255', 32, 'ipv4'],
];

const lists = RANGES.map(([kind, prefix, bits, family]) => {
  const list = new BlockList();
  list.addSubnet(prefix, bits, family);
  return { kind, list, family };
});

/**
 * Why `address` must not be an upstream, or undefined when it may be: `loopback`, `unspecified`, `link-local`,
 * `multicast`, `broadcast`, or `an address of this machine`. IPv4-mapped IPv6 addresses count as their IPv4.
 */
export function refusedUpstreamKind(address: string): string | undefined {
  const canonical = canonicalAddress(address.replace(/%.*$/, ''));
  if (canonical === undefined) return 'not an IP address';
  const family = isIP(canonical) === 4 ? 'ipv4' : 'ipv6';
  const range = lists.find((r) => r.family === family && r.list.check(canonical, family));
  if (range) return range.kind;
  if (ownAddresses().has(canonical)) return 'an address of this machine';
  return undefined;
}

/** This machine's addresses in the current network namespace (read each time: interfaces come and go). */
function ownAddresses(): Set<string> {
  const own = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const { address } of addresses ?? []) {
      const canonical = canonicalAddress(address.replace(/%.*$/, ''));
      if (canonical !== undefined) own.add(canonical);
    }
  }
  return own;
}

/** The error for a refused upstream: names the host, the address, why, and how a test allows it. */
export function upstreamRefused(host: string, address: string, kind: string): RecallError {
  const named = host === address ? address : `${host} (${address})`;
  return new RecallError(
    UPSTREAM_REFUSED,
    `refusing to forward to ${named}: it is ${/^an? /.test(kind) ? kind : `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} address`}, which a device must not reach through Recall; a test whose origin servers run on this machine sets HTTPClient's allowLocalUpstreams (test_RecallServer: allow_local_upstreams=1)`,
  );
}
