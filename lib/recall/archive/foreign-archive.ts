/**
 * DNS for an archive that recorded none: a HAR from a browser or a proxy holds HTTP exchanges only, so playback
 * would answer a device's lookups of its hosts NXDOMAIN and the device would never connect. Each host the entries
 * name gets an A answer instead, with its own address from the documentation ranges (RFC 5737: 203.0.113.0/24,
 * then 198.51.100.0/24, then 192.0.2.0/24), so the device connects there, the interception rules bring the
 * connection to Recall, and an HTTPS client without SNI is still told apart by address. Hosts are numbered in
 * sorted order, so the same archive always gives the same addresses.
 */
import type { RecordedDnsAnswer } from '../dns/dns-types.js';
import { isIP } from 'node:net';

const BLOCKS = ['203.0.113', '198.51.100', '192.0.2'];
/** TTL of the made-up answers, in seconds. */
const TTL = 300;

/** The host of an archive's `host` field (`name:port`, `[v6]:port`), without the port; undefined for addresses. */
function hostName(authority: string): string | undefined {
  const name = authority.startsWith('[')
    ? authority.slice(1, authority.indexOf(']'))
    : authority.replace(/:\d*$/, '');
  const lower = name.toLowerCase().replace(/\.$/, '');
  return lower === '' || isIP(lower) !== 0 ? undefined : lower;
}

/** A answers for every host name in `authorities` (request hosts as archives store them). */
export function madeUpDnsAnswers(authorities: Iterable<string>): RecordedDnsAnswer[] {
  const names = new Set<string>();
  for (const authority of authorities) {
    const name = hostName(authority);
    if (name) names.add(name);
  }
  return [...names].sort().map((name, i) => {
    const block = BLOCKS[Math.floor(i / 254) % BLOCKS.length]!;
    return { name, type: 'A', ttl: TTL, data: [`${block}.${(i % 254) + 1}`] };
  });
}

/** True for a parsed HAR without Recall's `log._recall` (written by another tool). */
export function isForeignHar(value: unknown): boolean {
  const log = (value as { log?: { _recall?: unknown } } | null)?.log;
  return typeof log === 'object' && log !== null && log._recall === undefined;
}
