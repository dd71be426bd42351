/**
 * DevTools-side replay: the browser replaced by its log. Each command the test sends is matched, in order, with
 * the next logged command (method, session and params); it is answered with the logged result and followed by
 * the events logged after it, up to the next logged command. A command that is not in the log is answered
 * with a protocol error naming the nearest logged command and the fields that differ, and reported to `onMiss`.
 */
import type { CdpCommand, CdpIncoming, CdpTransport } from './cdp-connection.js';
import { describeDifferences, jsonDiff, type JsonDifference } from './json-diff.js';
import type { CommandRecord, ResponseRecord } from './session-log-format.js';
import { externalize } from './session-log-format.js';
import type { LoggedBrowser, SessionLog } from './session-log-reader.js';

/** A command the log could not answer. */
export interface ReplayMiss {
  readonly browser: number;
  readonly method: string;
  readonly message: string;
}

/** How far ahead of the expected command a match may be found (commands sent concurrently may swap). */
const LOOKAHEAD = 4;
/** The protocol's "server error" code, used for answers the log cannot give. */
const REPLAY_ERROR_CODE = -32000;

export class LogReplayTransport implements CdpTransport {
  readonly #log: SessionLog;
  readonly #logged: LoggedBrowser;
  readonly #onMiss: (miss: ReplayMiss) => void;
  readonly #consumed = new Set<number>();
  /** Logged command id → the id the test used for it. */
  readonly #ids = new Map<number, number>();
  readonly #messageListeners: ((message: CdpIncoming) => void)[] = [];
  readonly #closeListeners: ((reason: Error) => void)[] = [];
  #cursor = 0;
  #closed = false;

  constructor(log: SessionLog, logged: LoggedBrowser, onMiss: (miss: ReplayMiss) => void) {
    this.#log = log;
    this.#logged = logged;
    this.#onMiss = onMiss;
  }

  send(command: CdpCommand): void {
    if (this.#closed) return;
    const match = this.#match(command);
    if (typeof match === 'string') {
      this.#onMiss({ browser: this.#logged.browser, method: command.method, message: match });
      setImmediate(() => this.#deliver({ id: command.id, error: { code: REPLAY_ERROR_CODE, message: match } }));
      return;
    }
    this.#consumed.add(match.line);
    this.#ids.set(match.id, command.id);
    setImmediate(() => this.#pump());
  }

  onMessage(listener: (message: CdpIncoming) => void): void {
    this.#messageListeners.push(listener);
  }

  onClose(listener: (reason: Error) => void): void {
    this.#closeListeners.push(listener);
  }

  close(): void {
    this.#closed = true;
  }

  /** The logged commands the test has not sent (Browser.close aside: the log may end before its answer). */
  unsent(): (CommandRecord & { line: number })[] {
    return this.#logged.records.filter((r): r is CommandRecord & { line: number } => r.type === 'command' && r.method !== 'Browser.close' && !this.#consumed.has(r.line));
  }

  /** The logged command `command` replays, or why there is none. */
  #match(command: CdpCommand): (CommandRecord & { line: number }) | string {
    const pending = this.#logged.records.filter((r): r is CommandRecord & { line: number } => r.type === 'command' && !this.#consumed.has(r.line));
    const params = externalize(command.params);
    const differences = (logged: CommandRecord): JsonDifference[] => [
      ...jsonDiff(logged.method, command.method, { path: 'method' }),
      ...jsonDiff(logged.sessionId, command.sessionId, { path: 'sessionId' }),
      ...jsonDiff(logged.params, params, { path: 'params' }),
    ];
    const found = pending.slice(0, LOOKAHEAD).find((logged) => differences(logged).length === 0);
    if (found) return found;
    const where = `${this.#log.path} (browser ${this.#logged.browser})`;
    if (pending.length === 0) return `session replay: ${command.method} is not in ${where}: the logged session had no more commands`;
    const nearest = pending
      .map((logged) => ({ logged, diff: differences(logged) }))
      .sort((a, b) => Number(a.logged.method !== command.method) - Number(b.logged.method !== command.method) || a.diff.length - b.diff.length)[0]!;
    return `session replay: ${command.method} is not in ${where}; nearest logged command is ${nearest.logged.method} at line ${nearest.logged.line}, differing in ${describeDifferences(nearest.diff)}`;
  }

  /** Delivers logged answers and events up to the next command the test has not sent yet. */
  #pump(): void {
    const records = this.#logged.records;
    while (this.#cursor < records.length && !this.#closed) {
      const record = records[this.#cursor]!;
      if (record.type === 'command') {
        if (!this.#consumed.has(record.line)) return;
      } else if (record.type === 'response') {
        const id = this.#ids.get(record.id);
        if (id !== undefined) this.#deliver(this.#answer(record, id));
      } else {
        this.#deliver({ method: record.method, params: this.#log.resolve(record.params), ...(record.sessionId ? { sessionId: record.sessionId } : {}) });
      }
      this.#cursor += 1;
    }
    // Every logged message delivered and every command sent: the logged browser is gone now.
    if (this.#cursor >= records.length && !this.#closed) {
      this.#closed = true;
      for (const listener of this.#closeListeners) listener(new Error('the logged browser session ended'));
    }
  }

  #answer(record: ResponseRecord, id: number): CdpIncoming {
    return record.error ? { id, error: record.error } : { id, result: this.#log.resolve(record.result ?? {}) };
  }

  #deliver(message: CdpIncoming): void {
    for (const listener of this.#messageListeners) listener(message);
  }
}
