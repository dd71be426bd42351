/**
 * Reads a DevTools session log back, checking it is one (header first, known records, nothing cut off) and
 * loading the side files of large payloads on demand. Every problem is one `SessionLogError` line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AutotestError } from '../../lib/errors.js';
import {
  internalize,
  payloadDigest,
  PAYLOAD_DIR,
  SESSION_LOG_FORMAT,
  SESSION_LOG_VERSION,
  type BrowserRecord,
  type HeaderRecord,
  type SessionRecord,
} from './session-log-format.js';

export class SessionLogError extends AutotestError {}

const RECORD_TYPES = new Set(['header', 'initial-state', 'launch', 'command', 'response', 'event', 'close']);

export interface LoggedBrowser {
  readonly browser: number;
  readonly flags: readonly string[];
  /** The browser's commands, answers and events in the order they happened, each with its line number. */
  readonly records: readonly (BrowserRecord & { readonly line: number })[];
}

export class SessionLog {
  readonly path: string;
  readonly header: HeaderRecord;
  readonly initialState: Readonly<Record<string, unknown>> | undefined;
  readonly browsers: readonly LoggedBrowser[];

  private constructor(path: string, header: HeaderRecord, initialState: Record<string, unknown> | undefined, browsers: LoggedBrowser[]) {
    this.path = path;
    this.header = header;
    this.initialState = initialState;
    this.browsers = browsers;
  }

  /** The test's name without its tag: the folder its code is in. */
  get testName(): string {
    return this.header.test.split('.')[0]!;
  }

  /** The tag of the run (`iteration1`), if any. */
  get tag(): string | undefined {
    const dot = this.header.test.indexOf('.');
    return dot < 0 ? undefined : this.header.test.slice(dot + 1);
  }

  /** Reads and checks the log at `path`. Throws `SessionLogError` naming the file, the line and what is wrong. */
  static read(path: string): SessionLog {
    if (!existsSync(path)) throw new SessionLogError('ERR_SESSION_LOG_MISSING', `${path} does not exist: pass a test's results folder that holds a devtools.jsonl`);
    const text = readFileSync(path, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) {
      throw new SessionLogError('ERR_SESSION_LOG_TRUNCATED', `${path} is truncated: its last line (${text.split('\n').length}) is cut off; the run was killed while writing, replay cannot trust it`);
    }
    const lines = text.split('\n').slice(0, -1);
    let header: HeaderRecord | undefined;
    let initialState: Record<string, unknown> | undefined;
    const browsers = new Map<number, { browser: number; flags: readonly string[]; records: (BrowserRecord & { line: number })[] }>();
    lines.forEach((raw, index) => {
      const line = index + 1;
      let record: SessionRecord;
      try {
        record = JSON.parse(raw) as SessionRecord;
      } catch {
        throw new SessionLogError(
          line === 1 ? 'ERR_SESSION_LOG_FOREIGN' : 'ERR_SESSION_LOG_CORRUPT',
          line === 1 ? `${path} is not a DevTools session log: its first line is not JSON` : `${path} line ${line} is not JSON: the log is damaged`,
        );
      }
      if (line === 1) header = checkHeader(path, record);
      else if (typeof record !== 'object' || record === null || !RECORD_TYPES.has(record.type)) {
        throw new SessionLogError('ERR_SESSION_LOG_CORRUPT', `${path} line ${line}: expected a record with type ${[...RECORD_TYPES].join('|')}, got ${JSON.stringify(raw.slice(0, 80))}`);
      }
      const problem = line === 1 ? undefined : shapeProblem(record);
      if (problem) throw new SessionLogError('ERR_SESSION_LOG_CORRUPT', `${path} line ${line}: ${problem}`);
      if (record.type === 'initial-state') initialState = { ...initialState, ...record.values };
      else if (record.type === 'launch') browsers.set(record.browser, { browser: record.browser, flags: record.flags, records: [] });
      else if (record.type === 'command' || record.type === 'response' || record.type === 'event') {
        const owner = browsers.get(record.browser);
        if (!owner) throw new SessionLogError('ERR_SESSION_LOG_CORRUPT', `${path} line ${line}: a ${record.type} of browser ${record.browser}, which was never launched`);
        owner.records.push({ ...record, line });
      }
    });
    if (!header) throw new SessionLogError('ERR_SESSION_LOG_FOREIGN', `${path} is empty: not a DevTools session log`);
    return new SessionLog(path, header, initialState, [...browsers.values()]);
  }

  /** The text of a large payload, from its side file (checked against its digest: the folder may come from a device). */
  loadPayload(digest: string): string {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new SessionLogError('ERR_SESSION_LOG_PAYLOAD', `${this.path}: payload reference ${JSON.stringify(digest.slice(0, 80))} is not sha256:<64 hex digits>`);
    const file = join(dirname(this.path), PAYLOAD_DIR, digest.replace(':', '-'));
    if (!existsSync(file)) throw new SessionLogError('ERR_SESSION_LOG_PAYLOAD', `${file} is missing: the log refers to payload ${digest} kept beside it; copy the whole results folder`);
    const text = readFileSync(file, 'utf8');
    if (payloadDigest(text) !== digest) throw new SessionLogError('ERR_SESSION_LOG_PAYLOAD', `${file} does not hold what the log refers to (its SHA-256 differs): the side file was changed`);
    return text;
  }

  /** `value` with its payload references replaced by their text. */
  resolve<T>(value: T): T {
    return internalize(value, (digest) => this.loadPayload(digest)) as T;
  }
}

const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with a record's fields, or undefined. */
function shapeProblem(record: SessionRecord): string | undefined {
  if (record.type === 'header') return 'a second header: two logs were joined';
  if (record.type === 'initial-state') return isObject(record.values) ? undefined : 'initial-state without a values object';
  if (!Number.isInteger(record.browser) || record.browser < 1) return `${record.type} with browser ${JSON.stringify(record.browser)}, expected a number from 1`;
  if (record.type === 'launch') return Array.isArray(record.flags) ? undefined : 'launch without a flags list';
  if ((record.type === 'command' || record.type === 'response') && !Number.isInteger(record.id)) return `${record.type} with id ${JSON.stringify(record.id)}, expected a whole number`;
  if ((record.type === 'command' || record.type === 'event') && (typeof record.method !== 'string' || !isObject(record.params))) return `${record.type} without a method name and a params object`;
  if ((record.type === 'command' || record.type === 'event') && record.sessionId !== undefined && typeof record.sessionId !== 'string') return `${record.type} with a sessionId that is not a string`;
  if (record.type === 'response' && !isObject(record.result) === !isObject(record.error)) return 'response with neither or both of result and error';
  return undefined;
}

function checkHeader(path: string, record: unknown): HeaderRecord {
  const header = record as Partial<HeaderRecord> | null;
  if (typeof header !== 'object' || header === null || header.type !== 'header' || header.format !== SESSION_LOG_FORMAT) {
    throw new SessionLogError('ERR_SESSION_LOG_FOREIGN', `${path} is not a DevTools session log: its first line has no "format": "${SESSION_LOG_FORMAT}" header`);
  }
  if (header.version !== SESSION_LOG_VERSION) {
    throw new SessionLogError('ERR_SESSION_LOG_VERSION', `${path} is a version ${String(header.version)} session log; this autotest reads version ${SESSION_LOG_VERSION}`);
  }
  if (typeof header.test !== 'string' || !/^[\w-]+(\.[\w.-]+)?$/.test(header.test)) {
    throw new SessionLogError('ERR_SESSION_LOG_FOREIGN', `${path}: the header's test name ${JSON.stringify(header.test)} is not a test name`);
  }
  if (typeof header.args !== 'object' || header.args === null) throw new SessionLogError('ERR_SESSION_LOG_FOREIGN', `${path}: the header has no args object`);
  return header as HeaderRecord;
}
