/**
 * Writes status.log as a job runs, keeping the nesting: START opens a level, `END …` closes it. Each line
 * goes to `<dir>/status.log` and, when it names a subdir, to `<dir>/<subdir>/status.log` too (as autotest).
 * Writes are synchronous appends so the file is valid at any moment, even after a crash.
 *
 * status.log keeps autotest's whole seconds; the millisecond time of each START and END line, read from the
 * job's clock as it is written, goes to `<dir>/debug/status-times.jsonl` for results.json and junit.xml.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderStatusLine, type StatusLogEntry, type StatusWord } from './status-log.js';

/** One line of `debug/status-times.jsonl`. */
export interface StatusTime {
  status: 'START' | 'END';
  subdir?: string | undefined;
  operation?: string | undefined;
  /** Milliseconds since the epoch. */
  ms: number;
}

export const STATUS_TIMES_FILE = join('debug', 'status-times.jsonl');

export type StatusListener = (entry: StatusLogEntry, indent: number) => void;

export class StatusLogWriter {
  readonly dir: string;
  readonly fileName: string;
  #indent = 0;
  #open: { subdir?: string | undefined; operation?: string | undefined }[] = [];
  #listeners: StatusListener[] = [];

  constructor(dir: string, options: { fileName?: string; indent?: number } = {}) {
    this.dir = dir;
    this.fileName = options.fileName ?? 'status.log';
    this.#indent = options.indent ?? 0;
    mkdirSync(dir, { recursive: true });
  }

  get path(): string {
    return join(this.dir, this.fileName);
  }

  /** How many groups are open. */
  get depth(): number {
    return this.#indent;
  }

  onEntry(listener: StatusListener): void {
    this.#listeners.push(listener);
  }

  write(entry: StatusLogEntry): void {
    const isEnd = entry.status.startsWith('END ');
    if (isEnd) {
      this.#indent = Math.max(0, this.#indent - 1);
      this.#open.pop();
    }
    const line = renderStatusLine(entry, this.#indent);
    appendFileSync(this.path, line);
    if (entry.subdir) {
      const subdir = join(this.dir, entry.subdir);
      mkdirSync(subdir, { recursive: true });
      appendFileSync(join(subdir, this.fileName), line);
    }
    if (isEnd || entry.status === 'START') {
      const time: StatusTime = { status: isEnd ? 'END' : 'START', subdir: entry.subdir, operation: entry.operation, ms: Date.now() };
      mkdirSync(join(this.dir, 'debug'), { recursive: true });
      appendFileSync(join(this.dir, STATUS_TIMES_FILE), JSON.stringify(time) + '\n');
    }
    for (const listener of this.#listeners) listener(entry, this.#indent);
    if (entry.status === 'START') {
      this.#indent++;
      this.#open.push({ subdir: entry.subdir, operation: entry.operation });
    }
  }

  /** Appends already-rendered lines (another writer's section) at this writer's current depth. */
  appendSection(text: string): void {
    if (!text) return;
    const prefix = '\t'.repeat(this.#indent);
    const body = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (line.startsWith('  ') ? line : prefix + line))
      .join('\n');
    appendFileSync(this.path, body + '\n');
  }

  /** The groups opened by this writer and not closed yet, outermost first. */
  get openGroups(): readonly { subdir?: string | undefined; operation?: string | undefined }[] {
    return this.#open;
  }

  /** Closes every open group with `END <status>`, innermost first: what an interrupted job leaves behind. */
  closeAll(status: StatusWord & `END ${string}`, message: string): void {
    while (this.#open.length > 0) {
      const group = this.#open[this.#open.length - 1]!;
      this.write({ status, subdir: group.subdir, operation: group.operation, timestamp: Math.floor(Date.now() / 1000), message });
    }
  }
}
