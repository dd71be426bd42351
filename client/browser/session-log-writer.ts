/** Writes a DevTools session log as it happens: one line per message, so a crash loses at most the last one. */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CdpCommand, CdpIncoming, CdpTap } from './cdp-connection.js';
import { externalize, PAYLOAD_DIR, SESSION_LOG_FORMAT, SESSION_LOG_VERSION, type SessionRecord } from './session-log-format.js';

/** Record fields without `t`, which the writer stamps. */
type Unstamped<R> = R extends unknown ? Omit<R, 't'> : never;

export class SessionLogWriter {
  readonly path: string;
  readonly #payloadDir: string;
  readonly #started = performance.now();
  #browsers = 0;

  private constructor(path: string) {
    this.path = path;
    this.#payloadDir = join(dirname(path), PAYLOAD_DIR);
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Opens (appends to) the log at `path` and writes its header. */
  static open(path: string, header: { test: string; args: Record<string, unknown>; iterations?: number }): SessionLogWriter {
    const writer = new SessionLogWriter(path);
    writer.write({ type: 'header', format: SESSION_LOG_FORMAT, version: SESSION_LOG_VERSION, test: header.test, args: jsonSafe(header.args), iterations: header.iterations ?? 1, startedAt: new Date().toISOString() });
    return writer;
  }

  write(record: Unstamped<SessionRecord>): void {
    const t = Math.round((performance.now() - this.#started) * 1000) / 1000;
    const stored = externalize({ ...record, t }, (digest, text) => this.#keep(digest, text));
    // One append per record: a killed test leaves every earlier record whole.
    appendFileSync(this.path, `${JSON.stringify(stored)}\n`);
  }

  /** Logs a new browser's launch; returns its number and the tap that logs its messages. */
  launch(flags: readonly string[]): { browser: number; tap: CdpTap } {
    const browser = ++this.#browsers;
    this.write({ type: 'launch', browser, flags });
    const tap: CdpTap = {
      command: (m: CdpCommand) => this.write({ type: 'command', browser, id: m.id, method: m.method, params: m.params, ...(m.sessionId ? { sessionId: m.sessionId } : {}) }),
      incoming: (m: CdpIncoming) => {
        if (m.id !== undefined) this.write({ type: 'response', browser, id: m.id, ...(m.error ? { error: { code: m.error.code, message: m.error.message } } : { result: m.result ?? {} }) });
        else if (m.method) this.write({ type: 'event', browser, method: m.method, params: m.params ?? {}, ...(m.sessionId ? { sessionId: m.sessionId } : {}) });
      },
    };
    return { browser, tap };
  }

  closeBrowser(browser: number): void {
    this.write({ type: 'close', browser });
  }

  #keep(digest: string, text: string): void {
    const file = join(this.#payloadDir, digest.replace(':', '-'));
    if (existsSync(file)) return;
    mkdirSync(this.#payloadDir, { recursive: true });
    writeFileSync(file, text);
  }
}

/** Arguments as JSON can hold them: hosts and other objects by name. */
function jsonSafe(args: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(args, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))) as Record<string, unknown>;
}
