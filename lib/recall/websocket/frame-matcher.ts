/**
 * Decides whether a frame the client sent is the recorded one: text and binary frames compare exactly; with
 * `ignoreJsonPaths`, two text frames that are both JSON compare as canonical JSON (key order does not matter)
 * with those paths removed from both, so a frame carrying a fresh id or timestamp still matches.
 */
import type { HarWebSocketMessage } from '../archive/archive-types.js';
import { JsonIgnorePaths } from '../json-ignore-paths.js';

export interface FrameMatchRules {
  /**
   * Dot paths removed from JSON text frames before they are compared (`id`, `params.nonce`, `items.*.ts`; a
   * leading `$.` is allowed). @default none: frames compare exactly
   */
  ignoreJsonPaths?: string[];
}

export class FrameMatcher {
  readonly #paths: JsonIgnorePaths;

  constructor(rules: FrameMatchRules = {}) {
    this.#paths = new JsonIgnorePaths(rules.ignoreJsonPaths);
  }

  /** True when the client's frame (`data`, binary or text) is the recorded `expected` one. */
  matches(expected: HarWebSocketMessage, data: Buffer, isBinary: boolean): boolean {
    if (isBinary !== (expected.opcode === 2)) return false;
    if (isBinary) return data.equals(Buffer.from(expected.data, 'base64'));
    const text = data.toString('utf8');
    if (text === expected.data) return true;
    if (this.#paths.isEmpty) return false;
    const received = this.#paths.comparable(text);
    return received !== undefined && received === this.#paths.comparable(expected.data);
  }
}
