/**
 * IDs the DevTools protocol mints (targetId, sessionId, frameId, loaderId, requestId, executionContextId, nodeId,
 * backendNodeId, objectId, scriptId, …) differ in every session. A replay learns which new ID stands for each
 * logged one from the answers and events it sees, and writes the new ones into the commands it re-issues.
 */

/** Objects whose own `id` is minted: an execution context (Runtime) and a frame (Page.getFrameTree). */
const ID_OWNERS = new Set(['context', 'frame']);

/** A key that holds a protocol-minted ID: any `…Id` or `…Ids`, and the `id` of a context or frame. */
export function isIdKey(key: string, parentKey?: string): boolean {
  return /Ids?$/.test(key) || (key === 'id' && parentKey !== undefined && ID_OWNERS.has(parentKey));
}

type Json = unknown;

export class IdMap {
  readonly #map = new Map<string, Json>();

  get size(): number {
    return this.#map.size;
  }

  /** Records, for every ID found at the same place in both, that `now` stands for `then`. First sighting wins. */
  learn(then: Json, now: Json, parentKey?: string): void {
    if (Array.isArray(then) && Array.isArray(now)) {
      then.forEach((item, index) => this.learn(item, now[index], parentKey));
      return;
    }
    if (!isObject(then) || !isObject(now)) return;
    for (const [key, value] of Object.entries(then)) {
      if (!(key in now)) continue;
      if (isIdKey(key, parentKey)) this.#learnId(value, now[key]);
      else this.learn(value, now[key], key);
    }
  }

  /** `value` with every logged ID that has a new counterpart replaced by it. */
  substitute<T>(value: T, parentKey?: string): T {
    if (Array.isArray(value)) return value.map((item) => this.substitute(item, parentKey)) as T;
    if (!isObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, isIdKey(key, parentKey) ? this.#mapId(item) : this.substitute(item, key)]),
    ) as T;
  }

  /** The new ID for a logged one (unchanged when none is known yet). */
  id<T>(value: T): T {
    return this.#mapId(value) as T;
  }

  #learnId(then: Json, now: Json): void {
    if (Array.isArray(then) && Array.isArray(now)) {
      then.forEach((item, index) => this.#learnId(item, now[index]));
      return;
    }
    if ((typeof then === 'string' || typeof then === 'number') && (typeof now === 'string' || typeof now === 'number')) {
      const key = JSON.stringify(then);
      if (!this.#map.has(key)) this.#map.set(key, now);
    }
  }

  #mapId(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.#mapId(item));
    if (typeof value !== 'string' && typeof value !== 'number') return value;
    const key = JSON.stringify(value);
    return this.#map.has(key) ? this.#map.get(key) : value;
  }
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
