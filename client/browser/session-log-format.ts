/**
 * The DevTools session log (`devtools.jsonl`, docs/session-replay.md): one JSON record per line. The first is
 * the header; then what the test stored as initial state, each browser launch, and every command, answer and
 * event of that browser with a monotonic time `t` (ms since the header). Strings longer than
 * PAYLOAD_MIN_CHARS (page HTML, screenshots, bodies) are kept in side files named by their SHA-256 and appear
 * in the log as `{"$payload": "sha256:HEX", "chars": N}`.
 */
import { createHash } from 'node:crypto';

export const SESSION_LOG_FORMAT = 'autotest-devtools-log';
export const SESSION_LOG_VERSION = 1;
export const SESSION_LOG_FILE = 'devtools.jsonl';
/** The side-file folder, beside the log. */
export const PAYLOAD_DIR = 'devtools-payloads';
export const PAYLOAD_MIN_CHARS = 4096;

export interface HeaderRecord {
  readonly type: 'header';
  readonly format: typeof SESSION_LOG_FORMAT;
  readonly version: number;
  /** The test's name with its tag (`desktopui_UrlFetch.iteration1`). */
  readonly test: string;
  /** The arguments the test ran with, for a DevTools-side replay to run it the same way. */
  readonly args: Record<string, unknown>;
  /** How many iterations the test ran. */
  readonly iterations: number;
  readonly startedAt: string;
  readonly t: number;
}
export interface InitialStateRecord {
  readonly type: 'initial-state';
  readonly t: number;
  readonly values: Record<string, unknown>;
}
export interface LaunchRecord {
  readonly type: 'launch';
  readonly t: number;
  /** 1 for the test's first browser, 2 for its second, … */
  readonly browser: number;
  readonly flags: readonly string[];
}
export interface CommandRecord {
  readonly type: 'command';
  readonly t: number;
  readonly browser: number;
  readonly id: number;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId?: string;
}
export interface ResponseRecord {
  readonly type: 'response';
  readonly t: number;
  readonly browser: number;
  readonly id: number;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: number; readonly message: string };
}
export interface EventRecord {
  readonly type: 'event';
  readonly t: number;
  readonly browser: number;
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId?: string;
}
export interface CloseRecord {
  readonly type: 'close';
  readonly t: number;
  readonly browser: number;
}
export type SessionRecord = HeaderRecord | InitialStateRecord | LaunchRecord | CommandRecord | ResponseRecord | EventRecord | CloseRecord;
export type BrowserRecord = CommandRecord | ResponseRecord | EventRecord;

/** A large string kept out of the log. */
export interface PayloadRef {
  readonly $payload: string;
  readonly chars: number;
}

export function isPayloadRef(value: unknown): value is PayloadRef {
  return typeof value === 'object' && value !== null && typeof (value as PayloadRef).$payload === 'string' && Object.keys(value).length === 2;
}

export function payloadDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A copy of `value` with every long string replaced by its reference; `keep` receives each one. */
export function externalize(value: unknown, keep: (digest: string, text: string) => void = () => undefined): unknown {
  if (typeof value === 'string') {
    if (value.length < PAYLOAD_MIN_CHARS) return value;
    const digest = payloadDigest(value);
    keep(digest, value);
    return { $payload: digest, chars: value.length } satisfies PayloadRef;
  }
  if (Array.isArray(value)) return value.map((item) => externalize(item, keep));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, externalize(item, keep)]));
  }
  return value;
}

/** A copy of `value` with every reference replaced by its text, read through `load`. */
export function internalize(value: unknown, load: (digest: string) => string): unknown {
  if (isPayloadRef(value)) return load(value.$payload);
  if (Array.isArray(value)) return value.map((item) => internalize(item, load));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, internalize(item, load)]));
  }
  return value;
}
