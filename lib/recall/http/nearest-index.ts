/**
 * Where to look for the recording nearest to a missed request, without scanning the archive: with a million
 * recordings a full scan took 0.57 s on the event loop per miss. The candidates are the recordings of the same
 * host and path, of the same path on any host, and of the host-and-path strings next to the request's in sorted
 * order (those share the longest prefix with it). Each group is capped, so a miss compares a bounded number of
 * recordings whatever the archive's size; the result is the nearest among those.
 *
 * Two arrays of recording numbers, one sorted by host and path, one by path (earlier recordings first among
 * equals), are the whole index: no per-group objects, so a million recordings cost two 4 MB arrays.
 */
import type { RequestKey } from './request-key.js';

/** Most recordings taken from each group of candidates. */
export const NEAREST_GROUP_LIMIT = 32;
/** Most sorted neighbours (distinct host-and-path strings) visited on each side. */
const NEIGHBOUR_LIMIT = 8;

/** The string the "longest shared path" tie-break compares. */
export function locationOf(key: Pick<RequestKey, 'host' | 'path'>): string {
  return key.host + key.path;
}

/** Recording numbers sorted by `valueOf`, then by number. */
function sortedBy(count: number, valueOf: (index: number) => string): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  return order.sort((a, b) => {
    const va = valueOf(a);
    const vb = valueOf(b);
    return va < vb ? -1 : va > vb ? 1 : a - b;
  });
}

/** First position in `order` whose value is not below `value`. */
function lowerBound(order: Int32Array, valueOf: (index: number) => string, value: string): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (valueOf(order[mid]!) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

export class NearestIndex {
  readonly #locations: string[];
  readonly #paths: string[];
  readonly #byLocation: Int32Array;
  readonly #byPath: Int32Array;

  /** `keys[i]` is the key of recording i. */
  constructor(keys: readonly RequestKey[]) {
    this.#locations = keys.map(locationOf);
    this.#paths = keys.map((key) => key.path);
    this.#byLocation = sortedBy(keys.length, (i) => this.#locations[i]!);
    this.#byPath = sortedBy(keys.length, (i) => this.#paths[i]!);
  }

  /** Indexes of the recordings worth comparing with `key`, ascending (earlier recordings first), about 3 groups. */
  candidates(key: RequestKey): number[] {
    const found = new Set<number>();
    const location = locationOf(key);
    const locationOfIndex = (i: number) => this.#locations[i]!;
    const at = lowerBound(this.#byLocation, locationOfIndex, location);
    this.#run(this.#byLocation, locationOfIndex, at, location, found);
    const pathOfIndex = (i: number) => this.#paths[i]!;
    this.#run(this.#byPath, pathOfIndex, lowerBound(this.#byPath, pathOfIndex, key.path), key.path, found);
    // Lexicographic neighbours share the longest prefix with `location`: walk outwards from its position, one
    // distinct neighbour at a time on each side, taking the first recordings of each.
    let below = at - 1;
    let above = at;
    while (above < this.#byLocation.length && locationOfIndex(this.#byLocation[above]!) === location) above++;
    let taken = 0;
    for (let step = 0; step < NEIGHBOUR_LIMIT && taken < NEAREST_GROUP_LIMIT; step++) {
      if (below >= 0) {
        const near = locationOfIndex(this.#byLocation[below]!);
        while (below > 0 && locationOfIndex(this.#byLocation[below - 1]!) === near) below--;
        taken += this.#run(
          this.#byLocation,
          locationOfIndex,
          below,
          near,
          found,
          NEAREST_GROUP_LIMIT - taken,
        );
        below--;
      }
      if (above < this.#byLocation.length && taken < NEAREST_GROUP_LIMIT) {
        const near = locationOfIndex(this.#byLocation[above]!);
        const added = this.#run(
          this.#byLocation,
          locationOfIndex,
          above,
          near,
          found,
          NEAREST_GROUP_LIMIT - taken,
        );
        taken += added;
        while (above < this.#byLocation.length && locationOfIndex(this.#byLocation[above]!) === near) above++;
      }
    }
    return [...found].sort((a, b) => a - b);
  }

  /** Adds up to `room` recordings of the run of `value` starting at `from`; returns how many it added. */
  #run(
    order: Int32Array,
    valueOf: (index: number) => string,
    from: number,
    value: string,
    into: Set<number>,
    room = NEAREST_GROUP_LIMIT,
  ): number {
    let added = 0;
    for (let i = from; i < order.length && added < room && valueOf(order[i]!) === value; i++) {
      into.add(order[i]!);
      added++;
    }
    return added;
  }
}
