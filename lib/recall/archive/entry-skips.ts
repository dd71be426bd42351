/**
 * The entries of a loaded archive that cannot be played back, by kind: counted, and named (the first few) in one
 * warning per kind, so a Chrome export with twelve blocked requests says so once, not twelve times.
 */

export const SKIP_REASONS = {
  'status-0': 'status 0 (a request the browser blocked or that failed: there is no response to play back)',
  'not-http': 'a URL that is not http:// or https:// (data:, blob:, ws:… are not served over HTTP)',
  'no-body':
    'no response body in the archive (content.text is missing though content.size says there was one)',
  'post-params-only':
    'a request body given only as postData.params, not as text (only form-urlencoded params can be rebuilt)',
} as const;

export type SkipKind = keyof typeof SKIP_REASONS;

/** Entries named per kind in a warning; the rest are counted. */
const NAMED = 5;

export class EntrySkips {
  readonly #count = new Map<SkipKind, number>();
  readonly #names = new Map<SkipKind, string[]>();

  /** Records `name` (`log.entries[3] GET https://…`) as skipped; returns undefined for the caller to return. */
  add(kind: SkipKind, name: string): undefined {
    this.#count.set(kind, (this.#count.get(kind) ?? 0) + 1);
    const names = this.#names.get(kind) ?? [];
    if (names.length < NAMED) names.push(name);
    this.#names.set(kind, names);
    return undefined;
  }

  /** Skipped entries by kind. */
  counts(): Partial<Record<SkipKind, number>> {
    return Object.fromEntries(this.#count);
  }

  get total(): number {
    let total = 0;
    for (const n of this.#count.values()) total += n;
    return total;
  }

  /** One message per kind: how many, why, and the first entries. */
  warnings(file: string): string[] {
    return [...this.#count].map(([kind, n]) => {
      const names = this.#names.get(kind)!;
      const more = n > names.length ? `, and ${n - names.length} more` : '';
      return `${file}: skipped ${n} ${n === 1 ? 'entry' : 'entries'} with ${SKIP_REASONS[kind]}: ${names.join(', ')}${more}`;
    });
  }
}
