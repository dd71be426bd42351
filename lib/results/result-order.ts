/**
 * The order results are shown in (summary, results.json, junit.xml, the report): by test, in the order the
 * tests first started, then by host, each parent before the results nested in it, and those in natural
 * order (`iteration2` before `iteration10`).
 */

export interface OrderedResult {
  name: string;
  /** Seconds since the epoch. */
  started: number;
  /** Milliseconds since the epoch, when known: orders tests that started within the same second. */
  startedMs?: number | undefined;
  machine?: string | undefined;
  parent?: string | undefined;
}

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

/** Natural order of two names: digits compare as numbers. */
export function compareNatural(a: string, b: string): number {
  return natural.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function orderResults<T extends OrderedResult>(results: readonly T[]): T[] {
  const byKey = new Map(results.map((r) => [`${r.machine ?? ''}\0${r.name}`, r]));
  const path = (result: T): string[] => {
    const names = [result.name];
    const seen = new Set<T>([result]);
    for (let at = result; at.parent !== undefined; ) {
      const parent = byKey.get(`${at.machine ?? ''}\0${at.parent}`);
      if (!parent || seen.has(parent)) break;
      names.unshift(parent.name);
      seen.add(parent);
      at = parent;
    }
    return names;
  };
  const paths = new Map(results.map((r) => [r, path(r)]));
  // A test's rank is when it first started on any host.
  const firstStart = new Map<string, number>();
  for (const [result, names] of paths) {
    const root = names[0]!;
    firstStart.set(root, Math.min(firstStart.get(root) ?? Infinity, result.startedMs ?? result.started * 1000));
  }
  return [...results].sort((a, b) => {
    const pa = paths.get(a)!;
    const pb = paths.get(b)!;
    const rank = firstStart.get(pa[0]!)! - firstStart.get(pb[0]!)! || compareNatural(pa[0]!, pb[0]!);
    if (rank) return rank;
    const host = compareNatural(a.machine ?? '', b.machine ?? '');
    if (host) return host;
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
      const step = compareNatural(pa[i]!, pb[i]!);
      if (step) return step;
    }
    return pa.length - pb.length;
  });
}
