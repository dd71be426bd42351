/**
 * Finds the recorded exchange for an incoming request. The index is built once, from the archive's exchanges in
 * file order. Identical requests get their recorded responses in recorded order, then the last one repeats (a
 * polling loop settles on the final state instead of failing). A miss can be explained by `nearest`.
 */
import type { RecordedExchange, RecordedRequest } from '../archive/archive-types.js';
import {
  MATCH_FIELDS,
  RequestKeyMaker,
  indexKeyOf,
  type MatchField,
  type MatchRules,
  type RequestKey,
} from './request-key.js';
import { NearestIndex, locationOf } from './nearest-index.js';

export type { MatchRules, MatchField } from './request-key.js';

/** One field in which a request differs from its nearest recording. */
export interface MatchDifference {
  field: MatchField;
  recorded: string;
  received: string;
}

export interface NearestMatch {
  exchange: RecordedExchange;
  differences: MatchDifference[];
  /** How many recordings were compared to find it (bounded, see nearest-index.ts). */
  compared: number;
}

interface Sequence {
  exchanges: RecordedExchange[];
  next: number;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function shown(key: RequestKey, field: MatchField): string {
  return field === 'body' ? key.bodyPreview : key[field];
}

export class RequestMatcher {
  readonly #keys: RequestKeyMaker;
  readonly #index = new Map<string, Sequence>();
  readonly #recorded: Array<{ key: RequestKey; exchange: RecordedExchange }> = [];
  readonly #nearest: NearestIndex;

  constructor(exchanges: readonly RecordedExchange[], rules: MatchRules = {}) {
    this.#keys = new RequestKeyMaker(rules);
    for (const exchange of exchanges) {
      const key = this.#keys.keyOf(exchange.request);
      this.#recorded.push({ key, exchange });
      const id = indexKeyOf(key);
      const sequence = this.#index.get(id);
      if (sequence) sequence.exchanges.push(exchange);
      else this.#index.set(id, { exchanges: [exchange], next: 0 });
    }
    // Built up front, so the first miss does not pay for sorting a large archive on the request path.
    this.#nearest = new NearestIndex(this.#recorded.map((r) => r.key));
  }

  /** The compared form of a request (for reports and tests). */
  keyOf(request: RecordedRequest): RequestKey {
    return this.#keys.keyOf(request);
  }

  /** The next recorded exchange for this request, or undefined on a miss. Advances the request's sequence. */
  match(request: RecordedRequest): RecordedExchange | undefined {
    const sequence = this.#index.get(indexKeyOf(this.#keys.keyOf(request)));
    if (!sequence) return undefined;
    const exchange = sequence.exchanges[Math.min(sequence.next, sequence.exchanges.length - 1)];
    if (sequence.next < sequence.exchanges.length) sequence.next++;
    return exchange;
  }

  /**
   * The recording that differs from `request` in the fewest fields (ties: the longer shared path, then the earlier
   * recording), with those fields, among a bounded set of candidates (nearest-index.ts), so a miss costs little
   * whatever the archive's size. Undefined when nothing is recorded.
   */
  nearest(request: RecordedRequest): NearestMatch | undefined {
    const key = this.#keys.keyOf(request);
    const candidates = this.#nearest.candidates(key);
    let best: { score: number; prefix: number; index: number } | undefined;
    for (const index of candidates) {
      const candidate = this.#recorded[index]!;
      const score = MATCH_FIELDS.filter((f) => candidate.key[f] !== key[f]).length;
      const prefix = commonPrefix(locationOf(candidate.key), locationOf(key));
      if (!best || score < best.score || (score === best.score && prefix > best.prefix))
        best = { score, prefix, index };
    }
    if (!best) return undefined;
    const found = this.#recorded[best.index]!;
    const differences = MATCH_FIELDS.filter((f) => found.key[f] !== key[f]).map((field) => ({
      field,
      recorded: shown(found.key, field),
      received: shown(key, field),
    }));
    return { exchange: found.exchange, differences, compared: candidates.length };
  }

  /** Recordings never served since the last reset, in archive order (for an end-of-run report). */
  unused(): RecordedExchange[] {
    const served = new Set<RecordedExchange>();
    for (const sequence of this.#index.values())
      sequence.exchanges.slice(0, sequence.next).forEach((e) => served.add(e));
    return this.#recorded.map((r) => r.exchange).filter((e) => !served.has(e));
  }

  /** Rewinds every sequence, so the next iteration of a test sees the recorded order again. */
  reset(): void {
    for (const sequence of this.#index.values()) sequence.next = 0;
  }
}
