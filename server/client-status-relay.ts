/**
 * Relays a client job's status lines into the server's status.log as they arrive (autotest's monitor):
 * bytes come in arbitrary pieces, only complete lines are relayed, each at the server's current nesting,
 * with subdirs made relative to the server job's folder. The client's own job group (`START ---- ----`)
 * is not repeated. Groups the client left open (it crashed, was killed, or the device vanished) can be
 * closed with ABORT afterwards.
 */
import type { Job } from '../lib/job.js';
import { parseStatusLine, type ParsedStatusLine } from '../lib/status-log.js';
import type { TestStatus } from '../lib/status.js';
import { worstStatus } from '../lib/status.js';

export class ClientStatusRelay {
  readonly #job: Job;
  readonly #subdirPrefix: string | undefined;
  #pending = '';
  #open: ParsedStatusLine[] = [];
  #jobGroupDepth = 0;
  /** Bytes of the client's status file consumed so far: where to resume reading after a reconnection. */
  offset = 0;
  /** The worst status the client reported. */
  worst: TestStatus = 'GOOD';

  constructor(job: Job, options: { subdirPrefix?: string } = {}) {
    this.#job = job;
    this.#subdirPrefix = options.subdirPrefix;
  }

  /** Feeds raw bytes read from the client's status file at `offset`. */
  push(chunk: string): void {
    this.offset += Buffer.byteLength(chunk);
    const text = this.#pending + chunk;
    const lastNewline = text.lastIndexOf('\n');
    this.#pending = text.slice(lastNewline + 1);
    for (const raw of text.slice(0, lastNewline + 1).split('\n')) {
      const line = parseStatusLine(raw);
      if (line) this.#relay(line);
    }
  }

  get openGroups(): number {
    return this.#open.length;
  }

  /** Closes whatever the client left open with `END ABORT`, noting why. */
  abortOpenGroups(reason: string): void {
    if (this.#open.length === 0) return;
    const innermost = this.#open[this.#open.length - 1]!;
    this.#write({ ...innermost, status: 'ABORT', message: reason, fields: {}, timestamp: Math.floor(Date.now() / 1000) });
    while (this.#open.length > 0) {
      const group = this.#open[this.#open.length - 1]!;
      this.#write({ ...group, status: 'END ABORT', message: '', fields: {}, timestamp: Math.floor(Date.now() / 1000) });
    }
  }

  #relay(line: ParsedStatusLine): void {
    const isJobGroup = line.subdir === undefined && line.operation === undefined;
    if (isJobGroup && line.status === 'START') {
      this.#jobGroupDepth++;
      return;
    }
    if (isJobGroup && line.status.startsWith('END ') && this.#jobGroupDepth > 0 && this.#open.length === 0) {
      this.#jobGroupDepth--;
      return;
    }
    this.#write(line);
  }

  #write(line: ParsedStatusLine): void {
    const subdir = line.subdir && this.#subdirPrefix ? `${this.#subdirPrefix}/${line.subdir}` : line.subdir;
    this.#job.context.status.write({ status: line.status, subdir, operation: line.operation, fields: line.fields, timestamp: line.timestamp, message: line.message });
    if (line.status === 'START') this.#open.push(line);
    else if (line.status.startsWith('END ')) {
      this.#open.pop();
      this.worst = worstStatus(this.worst, line.status.slice(4) as TestStatus);
    } else if (line.status !== 'INFO') this.worst = worstStatus(this.worst, line.status as TestStatus);
  }
}
