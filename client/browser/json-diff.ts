/** Where two JSON values differ, as paths (`result.value`, `params.url`), for divergence reports. */

export interface JsonDifference {
  readonly path: string;
  readonly then: unknown;
  readonly now: unknown;
}

/** Every leaf where `then` and `now` differ; `skip(path, key)` leaves a key out (volatile or substituted). */
export function jsonDiff(then: unknown, now: unknown, options: { path?: string; skip?: (key: string) => boolean; limit?: number } = {}): JsonDifference[] {
  const out: JsonDifference[] = [];
  const limit = options.limit ?? 20;
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length >= limit) return;
    if (a === b) return;
    const bothObjects = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b);
    if (!bothObjects) {
      out.push({ path: path || '.', then: a, now: b });
      return;
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (options.skip?.(key)) continue;
      walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    }
  };
  walk(then, now, options.path ?? '');
  return out;
}

/** `path: then → now` for each difference, values shortened. */
export function describeDifferences(differences: readonly JsonDifference[]): string {
  const short = (value: unknown) => {
    const text = value === undefined ? 'absent' : JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  return differences.map((d) => `${d.path}: ${short(d.then)} → ${short(d.now)}`).join('; ');
}
