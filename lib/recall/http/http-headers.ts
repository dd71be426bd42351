/**
 * Header handling shared by the servers and the upstream client: lookups on raw header lists and the removal of
 * hop-by-hop headers (RFC 9110 §7.6.1), which belong to one connection and are never forwarded or replayed.
 */
import type { RawHeaders } from '../archive/archive-types.js';

/** Connection-specific fields, plus `Expect` (the servers answer 100-continue themselves). */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'expect',
]);

/** The first value of a header, by case-insensitive name. */
export function headerValue(headers: RawHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

/** Node's flat `rawHeaders` (`[name, value, name, value…]`) as pairs. */
export function pairsOf(flat: readonly string[]): RawHeaders {
  const pairs: RawHeaders = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string]);
  return pairs;
}

/** Pairs back to Node's flat form, for `writeHead` and `http.request`. */
export function flatOf(headers: RawHeaders): string[] {
  const flat: string[] = [];
  for (const [n, v] of headers) flat.push(n, v);
  return flat;
}

/** The headers without hop-by-hop fields and without those the Connection header names. */
export function withoutHopByHop(headers: RawHeaders): RawHeaders {
  const named = new Set<string>();
  for (const [n, v] of headers) {
    if (n.toLowerCase() === 'connection')
      for (const token of v.split(',')) named.add(token.trim().toLowerCase());
  }
  return headers.filter(([n]) => {
    const lower = n.toLowerCase();
    return !HOP_BY_HOP.has(lower) && !named.has(lower);
  });
}

/** Removes every header with one of the given names (case-insensitive). */
export function withoutHeaders(headers: RawHeaders, names: readonly string[]): RawHeaders {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return headers.filter(([n]) => !drop.has(n.toLowerCase()));
}

/** Splits `host[:port]` (with `[v6]` support); undefined when the port is not a number from 1 to 65535. */
export function splitHost(
  authority: string,
  defaultPort: number,
): { hostname: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (!match || !match[1]) return undefined;
  const hostname = match[1].startsWith('[') ? match[1].slice(1, -1) : match[1];
  const port = match[2] ? Number(match[2]) : defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { hostname, port };
}
