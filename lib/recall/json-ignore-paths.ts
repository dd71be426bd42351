/**
 * Comparing JSON while ignoring the parts that change every run (request ids, nonces, timestamps): HTTP bodies
 * (`ignoreJsonBodyPaths`) and WebSocket frames (`ignoreJsonPaths`) use the same dot paths and the same
 * canonical form, so key order never decides a match.
 */

/** Dot paths (`id`, `params.nonce`, `items.*.ts`, an optional leading `$.`) removed before comparing. */
export class JsonIgnorePaths {
  readonly #paths: string[][];

  constructor(paths: readonly string[] = []) {
    this.#paths = paths.map((p) => p.replace(/^\$\.?/, '').split('.').filter(Boolean));
  }

  get isEmpty(): boolean {
    return this.#paths.length === 0;
  }

  /** `text` as canonical JSON with the paths removed; undefined when it is not JSON. */
  comparable(text: string): string | undefined {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    for (const path of this.#paths) deletePath(value, path);
    return canonicalJson(value);
  }
}

function deletePath(value: unknown, keys: readonly string[]): void {
  if (typeof value !== 'object' || value === null || keys.length === 0) return;
  const [key, ...rest] = keys as [string, ...string[]];
  const record = value as Record<string, unknown>;
  const names = key === '*' ? Object.keys(record) : Object.hasOwn(record, key) ? [key] : [];
  for (const name of names) {
    if (rest.length > 0) deletePath(record[name], rest);
    else if (Array.isArray(record)) record[Number(name)] = null;
    else delete record[name];
  }
}

/** JSON with object keys sorted. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
