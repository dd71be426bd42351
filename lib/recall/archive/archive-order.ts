/**
 * The order of an archive file: deterministic, so two recordings of the same pages differ only in what really
 * differs, and what HAR viewers expect.
 */
import type { RecordedExchange } from './archive-types.js';
import type { RecordedDnsAnswer } from '../dns/dns-types.js';
import { urlOf } from './archive-codec.js';

/**
 * The exchanges in file order: by start time (as HAR viewers expect), then URL, then method, keeping recorded
 * order among equal keys. Keys are computed once: a million exchanges sort in about a second.
 */
export function sortedExchanges(exchanges: readonly RecordedExchange[]): RecordedExchange[] {
  const keyed = exchanges.map((exchange, index) => ({
    exchange,
    index,
    time: Date.parse(exchange.startedDateTime),
    url: urlOf(exchange.request),
  }));
  keyed.sort((a, b) => {
    if (a.time !== b.time && !Number.isNaN(a.time) && !Number.isNaN(b.time)) return a.time - b.time;
    if (a.url !== b.url) return a.url < b.url ? -1 : 1;
    const ma = a.exchange.request.method;
    const mb = b.exchange.request.method;
    if (ma !== mb) return ma < mb ? -1 : 1;
    return a.index - b.index;
  });
  return keyed.map((k) => k.exchange);
}

/** DNS answers by name, then type. */
export function compareDns(a: RecordedDnsAnswer, b: RecordedDnsAnswer): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return 0;
}
