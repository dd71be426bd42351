/**
 * Selecting and summarising archive entries, for the `recall` command and for tests that inspect an archive:
 * filters on method, host, path and status, a one-line listing, and counts.
 */
import type { RecordedExchange } from './archive-types.js';
import type { RecordedDnsAnswer } from '../dns/dns-types.js';
import { urlOf } from './archive-codec.js';
import { headerValue } from '../http/http-headers.js';
import { printable } from '../printable.js';

export interface ExchangeFilter {
  /** Method, case-insensitive (`get`). */
  method?: string;
  /** Host, case-insensitive; matches with or without the port (`example.com` matches `example.com:8080`). */
  host?: string;
  /** Prefix of the path (`/api/`). */
  path?: string;
  /** Status code (`404`) or class (`4xx`). */
  status?: string;
}

/** A predicate for `Archive.filter` built from the filter (an empty filter keeps everything). */
export function exchangeFilter(filter: ExchangeFilter): (exchange: RecordedExchange) => boolean {
  const method = filter.method?.toUpperCase();
  const host = filter.host?.toLowerCase();
  const status = filter.status?.toLowerCase();
  return ({ request, response }) => {
    if (method && request.method.toUpperCase() !== method) return false;
    if (host && request.host !== host && request.host.replace(/:\d+$/, '') !== host) return false;
    if (filter.path && !request.target.startsWith(filter.path)) return false;
    if (status) {
      const code = String(response.status);
      if (/^\dxx$/.test(status) ? code[0] !== status[0] : code !== status) return false;
    }
    return true;
  };
}

/** `200 GET https://host/path 1234 text/html`, control characters escaped. */
export function exchangeLine(exchange: RecordedExchange): string {
  const type = headerValue(exchange.response.headers, 'content-type') ?? '-';
  return printable(
    `${exchange.response.status} ${exchange.request.method} ${urlOf(exchange.request)} ${exchange.response.body.length} ${type}`,
  );
}

/** `A www.example.test 300 192.0.2.1,192.0.2.2` (`NXDOMAIN`, `NODATA` when there is no data), escaped. */
export function dnsAnswerLine(answer: RecordedDnsAnswer): string {
  const data = answer.data.length > 0 ? answer.data.join(',') : (answer.rcode ?? 'NODATA');
  return printable(`${answer.type} ${answer.name} ${answer.ttl} ${data}`);
}

export interface ArchiveStats {
  entries: number;
  /** Response body bytes as stored (still content-encoded). */
  responseBytes: number;
  byHost: Record<string, number>;
  byMethod: Record<string, number>;
  byStatus: Record<string, number>;
  /** Entries the load skipped (they cannot be played back), by kind (see SKIP_REASONS). */
  skipped: Record<string, number>;
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

export function archiveStats(
  exchanges: readonly RecordedExchange[],
  skipped: Partial<Record<string, number>> = {},
): ArchiveStats {
  const stats: ArchiveStats = {
    entries: exchanges.length,
    responseBytes: 0,
    byHost: {},
    byMethod: {},
    byStatus: {},
    skipped: Object.fromEntries(Object.entries(skipped).filter((e): e is [string, number] => e[1] !== undefined)),
  };
  for (const { request, response } of exchanges) {
    stats.responseBytes += response.body.length;
    count(stats.byHost, request.host);
    count(stats.byMethod, request.method);
    count(stats.byStatus, String(response.status));
  }
  return stats;
}
