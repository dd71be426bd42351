/**
 * What a request is matched on, field by field: method, scheme, host, path, query, the headers that are not
 * volatile, and the body. User rules remove query parameters, headers and JSON body paths before comparing.
 */
import { createHash } from 'node:crypto';
import type { RecordedRequest } from '../archive/archive-types.js';
import { JsonIgnorePaths } from '../json-ignore-paths.js';
import { headerValue } from './http-headers.js';

/** Client headers that change between runs of the same page, so they never take part in matching. */
export const VOLATILE_HEADERS: readonly string[] = [
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'accept-datetime',
  'cache-control',
  'connection',
  'keep-alive',
  'cookie',
  'referer',
  'user-agent',
  'pragma',
  'upgrade-insecure-requests',
  'host',
  'content-length',
  'transfer-encoding',
  'te',
  'expect',
  'origin',
  'x-client-data',
  'dnt',
  'priority',
  'via',
  'traceparent',
  'tracestate',
  'proxy-connection',
  'proxy-authorization',
  'authorization',
  'upgrade',
  // Browser-volatile: which alternative service a connection used, prefetch purpose, network client hints.
  'alt-used',
  'purpose',
  'x-purpose',
  'x-moz',
  'save-data',
  'device-memory',
  'dpr',
  'viewport-width',
  'width',
  'rtt',
  'downlink',
  'ect',
  'early-data',
];

/**
 * Prefixes of volatile header families: HTTP/2 and HTTP/3 pseudo-headers (`:authority`, `:method`, `:path`,
 * `:scheme`, which browsers' HAR exports list as headers and which repeat the method and URL already compared),
 * conditional requests, fetch metadata, client hints, forwarding.
 */
export const VOLATILE_HEADER_PREFIXES: readonly string[] = [':', 'if-', 'sec-', 'x-forwarded-'];

export interface MatchRules {
  /** Query parameter names left out of matching (a cache-buster `_`, a timestamp). */
  ignoreQueryParams?: string[];
  /** Request header names left out of matching, on top of the volatile ones. */
  ignoreHeaders?: string[];
  /**
   * Paths removed from JSON request bodies before matching: dot-separated keys, `*` for any key or array index,
   * an optional leading `$.` (`$.meta.requestId`, `items.*.nonce`).
   */
  ignoreJsonBodyPaths?: string[];
}

export const MATCH_FIELDS = ['method', 'scheme', 'host', 'path', 'query', 'headers', 'body'] as const;
export type MatchField = (typeof MATCH_FIELDS)[number];

/** The compared form of one request. `body` is a digest; `bodyPreview` is for miss reports only. */
export type RequestKey = Record<MatchField, string> & { bodyPreview: string };

export class RequestKeyMaker {
  readonly #ignoreQuery: Set<string>;
  readonly #ignoreHeaders: Set<string>;
  readonly #jsonPaths: JsonIgnorePaths;

  constructor(rules: MatchRules = {}) {
    this.#ignoreQuery = new Set(rules.ignoreQueryParams ?? []);
    this.#ignoreHeaders = new Set([
      ...VOLATILE_HEADERS,
      ...(rules.ignoreHeaders ?? []).map((h) => h.toLowerCase()),
    ]);
    this.#jsonPaths = new JsonIgnorePaths(rules.ignoreJsonBodyPaths);
  }

  #headerMatters(lower: string): boolean {
    return !this.#ignoreHeaders.has(lower) && !VOLATILE_HEADER_PREFIXES.some((p) => lower.startsWith(p));
  }

  #query(query: string): string {
    if (query === '' || this.#ignoreQuery.size === 0) return query;
    return query
      .split('&')
      .filter((pair) => {
        const raw = pair.split('=', 1)[0] ?? '';
        let name = raw;
        try {
          name = decodeURIComponent(raw.replace(/\+/g, ' '));
        } catch {
          // A malformed escape is compared as written.
        }
        return !this.#ignoreQuery.has(name);
      })
      .join('&');
  }

  #body(request: RecordedRequest): { text: string; bytes: Buffer } {
    const type = headerValue(request.headers, 'content-type') ?? '';
    if (!this.#jsonPaths.isEmpty && request.body.length > 0 && /json/i.test(type)) {
      const text = this.#jsonPaths.comparable(request.body.toString('utf8'));
      // Not JSON after all: compared byte for byte.
      if (text !== undefined) return { text, bytes: Buffer.from(text) };
    }
    return { text: request.body.toString('utf8'), bytes: request.body };
  }

  keyOf(request: RecordedRequest): RequestKey {
    const at = request.target.indexOf('?');
    const headers = request.headers
      .map(([n, v]): [string, string] => [n.toLowerCase(), v])
      .filter(([n]) => this.#headerMatters(n))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([n, v]) => `${n}: ${v}`)
      .join('\n');
    const body = this.#body(request);
    return {
      method: request.method,
      scheme: request.scheme,
      host: request.host.toLowerCase(),
      path: at < 0 ? request.target : request.target.slice(0, at),
      query: at < 0 ? '' : this.#query(request.target.slice(at + 1)),
      headers,
      body: body.bytes.length === 0 ? '' : createHash('sha256').update(body.bytes).digest('base64'),
      bodyPreview: body.text.length > 200 ? `${body.text.slice(0, 200)}…` : body.text,
    };
  }
}

/** One string for index lookups: every match field, in order. */
export function indexKeyOf(key: RequestKey): string {
  return MATCH_FIELDS.map((field) => key[field]).join('\u0000');
}
