/**
 * Where to look for the recording nearest to a missed request, without scanning the archive: with a million
 * recordings a full scan took 0.57 s on the event loop per miss. The candidates are the recordings of the same
 * host and path, of the same path on any host, and of the host-and-path strings next to the request's in sorted
 * order (those share the longest prefix with it). Each group is capped, so a miss compares a bounded number of
 * recordings whatever the archive's size; the result is the nearest among those.
 */
import type { RequestKey } from './request-key.js';

/** Most recordings taken from each group of candidates. */
export const NEAREST_GROUP_LIMIT = 32;
/** Most sorted neighbours (distinct host-and-path strings) visited on each side. */
const NEIGHBOUR_LIMIT = 8;

function push(map: Map<string, number[]>, key: string, index: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [index]);
  else if (list.length < NEAREST_GROUP_LIMIT) list.push(index);
}

/** The string the "longest shared path" tie-break compares. */
export function locationOf(key: Pick<RequestKey, 'host' | 'path'>): string {
  return key.host + key.path;
}

export class NearestIndex {
  readonly #byLocation = new Map<string, number[]>();
  readonly #byPath = new Map<string, number[]>();
  readonly #locations: string[];

  /** `keys[i]` is the key of recording i. */
  constructor(keys: readonly RequestKey[]) {
    keys.forEach((key, index) => {
      push(this.#byLocation, locationOf(key), index);
      push(this.#byPath, key.path, index);
    });
    this.#locations = [...this.#byLocation.keys()].sort();
  }

  /** Indexes of the recordings worth comparing with `key`, ascending (earlier recordings first), at most about 4 groups. */
  candidates(key: RequestKey): number[] {
    const found = new Set<number>();
    const add = (list: readonly number[] | undefined, room = NEAREST_GROUP_LIMIT) => {
      for (const index of list ?? []) {
        if (room-- <= 0) break;
        found.add(index);
      }
    };
    const location = locationOf(key);
    add(this.#byLocation.get(location));
    add(this.#byPath.get(key.path));
    // Lexicographic neighbours share the longest prefix with `location`: walk outwards from its insertion point.
    const at = lowerBound(this.#locations, location);
    const neighbours: number[] = [];
    for (let step = 0; step < NEIGHBOUR_LIMIT; step++) {
      for (const i of [at - 1 - step, at + step]) {
        const near = this.#locations[i];
        if (near !== undefined && near !== location) neighbours.push(...(this.#byLocation.get(near) ?? []));
      }
      if (neighbours.length >= NEAREST_GROUP_LIMIT) break;
    }
    add(neighbours);
    return [...found].sort((a, b) => a - b);
  }
}

function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
