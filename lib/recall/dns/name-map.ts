/**
 * The session's one map between host names and addresses, the successor of the original's SymmetricDNSClient
 * mapping: DNS answers fill it, and the HTTP side asks it which host an intercepted destination address belongs
 * to when a connection carries no SNI and no Host header (a bare IP still names a host).
 *
 * Stability rule: an address belongs to the first name that was answered with it and never changes owner during
 * the session, so the same address always names the same host. Names are compared case-insensitively.
 * Unlike the original, no addresses are synthesised when two names share one (CDNs): the second name still gets
 * its real addresses, and an address names only its first owner. HTTPS naming uses SNI first, so this matters
 * only for clients that connect to a bare IP without SNI.
 */
import { isIP, isIPv4 } from 'node:net';
import type { RecordedDnsAnswer } from './dns-types.js';

/** Lower case, no trailing dot: the form names are stored and compared in. */
export function normalizeDnsName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The canonical text of an address: IPv4 as is, IPv4-mapped IPv6 (`::ffff:192.0.2.1`, as dual-stack sockets report
 * it) as plain IPv4, other IPv6 in RFC 5952 form. Returns undefined for anything that is not an address.
 */
export function canonicalAddress(address: string): string | undefined {
  const trimmed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(trimmed);
  if (family === 4) return trimmed;
  if (family !== 6) return undefined;
  // The URL parser prints IPv6 in RFC 5952 form (lower case, longest zero run compressed).
  const host = new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const high = Number.parseInt(mapped[1] ?? '0', 16);
    const low = Number.parseInt(mapped[2] ?? '0', 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return host;
}

/** The PTR owner name of an address: `1.2.0.192.in-addr.arpa` or the nibble form under `ip6.arpa`. */
export function reverseNameForAddress(address: string): string | undefined {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return undefined;
  if (isIPv4(canonical)) return `${canonical.split('.').reverse().join('.')}.in-addr.arpa`;
  const groups = expandIPv6(canonical);
  return `${groups.join('').split('').reverse().join('.')}.ip6.arpa`;
}

/** The address a PTR owner name stands for, or undefined when the name is not a complete reverse name. */
export function addressForReverseName(name: string): string | undefined {
  const normal = normalizeDnsName(name);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(normal);
  if (v4) return canonicalAddress([v4[4], v4[3], v4[2], v4[1]].join('.'));
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(normal);
  if (!v6 || v6[1] === undefined) return undefined;
  const nibbles = v6[1].split('.').filter(Boolean).reverse().join('');
  return canonicalAddress(nibbles.match(/.{4}/g)?.join(':') ?? '');
}

function expandIPv6(canonical: string): string[] {
  const [head = '', tail] = canonical.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.padStart(4, '0'));
}

/** One stable name↔address map for a Recall session. */
export class NameMap {
  readonly #addressesByName = new Map<string, string[]>();
  readonly #nameByAddress = new Map<string, string>();

  /** A map filled from recorded answers (A/AAAA forward, PTR backward), for playback. */
  static fromRecorded(answers: readonly RecordedDnsAnswer[]): NameMap {
    const map = new NameMap();
    for (const answer of answers) map.addAnswer(answer);
    return map;
  }

  /** Records one DNS answer: A and AAAA data are addresses of `name`; PTR data names the reversed address. */
  addAnswer(answer: RecordedDnsAnswer): void {
    if (answer.type === 'A' || answer.type === 'AAAA') {
      this.addAddresses(answer.name, answer.data);
    } else if (answer.type === 'PTR') {
      const address = addressForReverseName(answer.name);
      const target = answer.data[0];
      if (address !== undefined && target !== undefined) this.#claim(address, normalizeDnsName(target));
    }
  }

  /** Records that `name` resolves to `addresses`; each address keeps the first name it was given to. */
  addAddresses(name: string, addresses: readonly string[]): void {
    const normal = normalizeDnsName(name);
    const known = this.#addressesByName.get(normal) ?? [];
    for (const address of addresses) {
      const canonical = canonicalAddress(address);
      if (canonical === undefined) continue;
      if (!known.includes(canonical)) known.push(canonical);
      this.#claim(canonical, normal);
    }
    this.#addressesByName.set(normal, known);
  }

  /** The host an address was first answered for (lower case), or undefined. Accepts IPv4-mapped IPv6. */
  nameForAddress(address: string): string | undefined {
    const canonical = canonicalAddress(address);
    return canonical === undefined ? undefined : this.#nameByAddress.get(canonical);
  }

  /** Every real address a name was answered with, in first-seen order (empty when unknown). Case-insensitive. */
  addressesFor(name: string): readonly string[] {
    return this.#addressesByName.get(normalizeDnsName(name)) ?? [];
  }

  /** Number of addresses that name a host. */
  get size(): number {
    return this.#nameByAddress.size;
  }

  #claim(address: string, name: string): void {
    if (!this.#nameByAddress.has(address)) this.#nameByAddress.set(address, name);
  }
}
