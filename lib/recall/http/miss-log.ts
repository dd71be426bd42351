/**
 * The requests playback could not answer, aggregated: one entry per distinct request (its match key) with a count,
 * at most `maxDistinct` entries, every text in them cut to a bounded length. 60,000 misses with long paths once
 * took a recall process from 65 MB to 1.79 GB and printed 846 MB at exit; now a miss costs a counter once its
 * request was seen, and the log's size does not depend on how many misses there were.
 */
import type { MatchDifference } from './request-matcher.js';

/** A request the archive could not answer (one entry per distinct request). */
export interface PlaybackMiss {
  method: string;
  /** The URL, cut to {@link MAX_MISS_TEXT} characters. */
  url: string;
  /** When it was first missed, ISO 8601. */
  at: string;
  /** How many times it was missed. */
  count: number;
  /** The closest recording and the fields that differ from it; absent when the archive is empty. */
  nearest?: { method: string; url: string; differences: MatchDifference[] };
}

/** Longest URL or field value kept in a miss, in characters. */
export const MAX_MISS_TEXT = 2048;
/** Distinct missed requests kept by default; further distinct ones are only counted. */
export const DEFAULT_MAX_DISTINCT_MISSES = 1000;

/** Where a `MissLog` stood, to report only what came after (one test iteration). */
export interface MissMark {
  readonly total: number;
  readonly counts: ReadonlyMap<string, number>;
}

/** `text` cut to `MAX_MISS_TEXT` characters, marked when cut. */
export function bounded(text: string): string {
  return text.length > MAX_MISS_TEXT ? `${text.slice(0, MAX_MISS_TEXT)}… (${text.length} characters)` : text;
}

export class MissLog {
  readonly #maxDistinct: number;
  readonly #entries = new Map<string, PlaybackMiss>();
  #total = 0;

  constructor(maxDistinct = DEFAULT_MAX_DISTINCT_MISSES) {
    this.#maxDistinct = maxDistinct;
  }

  /**
   * Counts one miss of the request whose match key is `key`. `describe` runs only for a request not seen before
   * (it finds the nearest recording, which is the costly part) and only while there is room.
   * @returns the entry, or undefined when it was only counted (log full)
   */
  record(key: string, describe: () => Omit<PlaybackMiss, 'count'>): PlaybackMiss | undefined {
    this.#total++;
    const known = this.#entries.get(key);
    if (known) {
      known.count++;
      return known;
    }
    if (this.#entries.size >= this.#maxDistinct) return undefined;
    const miss = { ...describe(), count: 1 };
    this.#entries.set(key, miss);
    return miss;
  }

  /** Every miss so far, including those not kept. */
  get total(): number {
    return this.#total;
  }

  /** Misses of requests not kept because the log was full. */
  get uncounted(): number {
    let kept = 0;
    for (const miss of this.#entries.values()) kept += miss.count;
    return this.#total - kept;
  }

  mark(): MissMark {
    return {
      total: this.#total,
      counts: new Map([...this.#entries].map(([key, miss]) => [key, miss.count])),
    };
  }

  /** The kept misses, first missed first; with `since`, only those after the mark, counted from it. */
  list(since?: MissMark): PlaybackMiss[] {
    const misses: PlaybackMiss[] = [];
    for (const [key, miss] of this.#entries) {
      const count = miss.count - (since?.counts.get(key) ?? 0);
      if (count > 0) misses.push({ ...miss, count });
    }
    return misses;
  }

  /** Lines for a summary: the `limit` most frequent misses, then how many more there were. */
  summary(limit = 20, since?: MissMark): string[] {
    const misses = this.list(since).sort((a, b) => b.count - a.count);
    const lines = misses.slice(0, limit).map((miss) => {
      const nearest = miss.nearest
        ? ` (nearest ${miss.nearest.method} ${miss.nearest.url}: ${miss.nearest.differences.map((d) => d.field).join(', ')} differ)`
        : '';
      return `MISS ${miss.method} ${miss.url}${nearest}${miss.count > 1 ? ` ×${miss.count}` : ''}`;
    });
    const total = this.#total - (since?.total ?? 0);
    const shown = misses.slice(0, limit).reduce((n, miss) => n + miss.count, 0);
    if (total > shown) lines.push(`… and ${total - shown} more misses not listed`);
    return lines;
  }
}
