/**
 * Decides whether a frame the client sent is the recorded one: text and binary frames compare exactly; with
 * `ignoreJsonPaths`, two text frames that are both JSON compare as canonical JSON (key order does not matter)
 * with those paths removed from both, so a frame carrying a fresh id or timestamp still matches.
 */
import type { HarWebSocketMessage } from '../archive/archive-types.js';

export interface FrameMatchRules {
  /**
   * Dot paths removed from JSON text frames before they are compared (`id`, `params.nonce`, `items.*.ts`; a
   * leading `$.` is allowed). @default none: frames compare exactly
   */
  ignoreJsonPaths?: string[];
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

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export class FrameMatcher {
  readonly #paths: string[][];

  constructor(rules: FrameMatchRules = {}) {
    this.#paths = (rules.ignoreJsonPaths ?? []).map((p) =>
      p
        .replace(/^\$\.?/, '')
        .split('.')
        .filter(Boolean),
    );
  }

  #comparable(text: string): string | undefined {
    try {
      const value: unknown = JSON.parse(text);
      for (const path of this.#paths) deletePath(value, path);
      return canonical(value);
    } catch {
      return undefined;
    }
  }

  /** True when the client's frame (`data`, binary or text) is the recorded `expected` one. */
  matches(expected: HarWebSocketMessage, data: Buffer, isBinary: boolean): boolean {
    if (isBinary !== (expected.opcode === 2)) return false;
    if (isBinary) return data.equals(Buffer.from(expected.data, 'base64'));
    const text = data.toString('utf8');
    if (text === expected.data) return true;
    if (this.#paths.length === 0) return false;
    const received = this.#comparable(text);
    return received !== undefined && received === this.#comparable(expected.data);
  }
}
