/**
 * The journal of a recording in progress: `ARCHIVE.journal` beside the archive, one JSON line per completed HTTP
 * exchange (as its HAR entry) or DNS answer, appended as each completes. A recording killed at any moment keeps
 * every exchange that completed; `recall recover ARCHIVE` (or loading ARCHIVE while it is missing) turns the
 * journal into the archive. The journal is deleted once the archive is saved.
 *
 * Lines reach the kernel (not necessarily the disk) before the exchange is reported complete: that survives a
 * killed process, which is the failure that matters here; an fsync per line would cost every request a disk flush.
 */
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { silentLogger } from '../../logging.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import type { RecallLogExtension, RecordedExchange } from './archive-types.js';
import type { RecordedDnsAnswer } from '../dns/dns-types.js';
import type { AlpnProtocol } from './archive-types.js';
import { exchangeToHarEntry } from './archive-codec.js';
import { ARCHIVE_FILE_MODE } from './archive-writer.js';

/** The journal of the recording that will be saved as `archiveFile`. */
export function journalPath(archiveFile: string): string {
  return `${archiveFile}.journal`;
}

/** The first line of a journal. */
interface JournalHeader {
  recallJournal: 1;
  recall: Omit<RecallLogExtension, 'dns'>;
}

export class ArchiveJournal {
  readonly file: string;
  readonly #handle: FileHandle;
  readonly #logger: Logger;
  /** Appends run one after another, so lines never interleave. */
  #tail: Promise<void> = Promise.resolve();
  #failed = false;

  private constructor(file: string, handle: FileHandle, logger: Logger) {
    this.file = file;
    this.#handle = handle;
    this.#logger = logger;
  }

  /**
   * Creates the journal (mode 0600) with its header line.
   * @throws RecallError ERR_ARCHIVE_JOURNAL when a journal is already there (an interrupted recording), or
   *   ERR_ARCHIVE_WRITE when it cannot be created
   */
  static async create(
    file: string,
    recall: RecallLogExtension,
    logger: Logger = silentLogger,
  ): Promise<ArchiveJournal> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'wx', ARCHIVE_FILE_MODE);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
      if (code === 'EEXIST') {
        const archive = file.replace(/\.journal$/, '');
        throw new RecallError(
          RECALL_ERROR_CODES.ARCHIVE_JOURNAL,
          `${file} holds an interrupted recording: run \`recall recover ${archive}\` to save it as ${archive}, or delete the journal to record over it`,
          { cause },
        );
      }
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_WRITE,
        `${file}: cannot create the journal (${code}); check the folder exists and is writable`,
        { cause },
      );
    }
    const journal = new ArchiveJournal(file, handle, logger.child({ component: 'journal' }));
    const { dns, ...state } = recall;
    const header: JournalHeader = { recallJournal: 1, recall: state };
    await journal.#append(`${JSON.stringify(header)}\n`);
    for (const answer of dns) await journal.appendDnsAnswer(answer);
    return journal;
  }

  /** Appends a completed exchange. Never rejects: a failing disk is logged once and the recording goes on in memory. */
  appendExchange(exchange: RecordedExchange): Promise<void> {
    let line: string;
    try {
      line = `${JSON.stringify({ entry: exchangeToHarEntry(exchange) })}\n`;
    } catch (error) {
      this.#logger.error(
        { err: error, url: exchange.request.target },
        'exchange too large for the journal; it is kept in memory only',
      );
      return Promise.resolve();
    }
    return this.#append(line);
  }

  /** Appends a DNS answer; never rejects, like `appendExchange`. */
  appendDnsAnswer(answer: RecordedDnsAnswer): Promise<void> {
    return this.#append(`${JSON.stringify({ dns: answer })}\n`);
  }

  /** Appends the protocol a host's real server chose (`log._recall.alpn`); never rejects, like `appendExchange`. */
  appendAlpn(host: string, protocol: AlpnProtocol): Promise<void> {
    return this.#append(`${JSON.stringify({ alpn: { host, protocol } })}\n`);
  }

  #append(line: string): Promise<void> {
    const data = Buffer.from(line, 'utf8');
    this.#tail = this.#tail.then(async () => {
      if (this.#failed) return;
      try {
        for (let at = 0; at < data.length;) at += (await this.#handle.write(data, at)).bytesWritten;
      } catch (error) {
        this.#failed = true;
        this.#logger.error(
          { err: error, file: this.file },
          'cannot write the journal; the recording is kept in memory only',
        );
      }
    });
    return this.#tail;
  }

  /** Waits for pending lines and closes the file (it stays on disk). */
  async close(): Promise<void> {
    await this.#tail;
    await this.#handle.close().catch(() => {});
  }

  /** Closes and deletes the journal (its archive was saved). */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.file, { force: true });
  }
}

/**
 * Reads a journal: `onEntry` gets each HAR entry (unchecked), in order; the result has the recording's state with
 * its DNS answers (unchecked). A line cut short by a kill is left out (its exchange never completed).
 * @throws RecallError ERR_ARCHIVE_READ, or ERR_ARCHIVE_PARSE when the file is not a journal
 */
export async function readJournal(
  file: string,
  onEntry: (value: unknown, index: number) => void,
): Promise<{ recall: RecallLogExtension; entries: number; damagedLines: number }> {
  const stream = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new RecallError(
      RECALL_ERROR_CODES.ARCHIVE_READ,
      `${file}: cannot read the journal (${code}); check the path`,
      { cause },
    );
  }
  let recall: RecallLogExtension | undefined;
  let entries = 0;
  let damagedLines = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      damagedLines++;
      continue;
    }
    if (!recall) {
      if (value?.recallJournal !== 1 || typeof value.recall !== 'object') {
        stream.destroy();
        throw new RecallError(
          RECALL_ERROR_CODES.ARCHIVE_PARSE,
          `${file}: not a Recall journal (its first line is not a journal header); check the path`,
        );
      }
      recall = { ...(value.recall as Omit<RecallLogExtension, 'dns'>), dns: [] };
    } else if (value.entry !== undefined) onEntry(value.entry, entries++);
    else if (value.dns !== undefined) recall.dns.push(value.dns as RecordedDnsAnswer);
    else if (value.alpn !== undefined) {
      const { host, protocol } = value.alpn as { host?: unknown; protocol?: unknown };
      // Checked like the rest of log._recall when the journal is loaded (archive-validate.ts).
      if (typeof host === 'string') recall.alpn = { ...recall.alpn, [host]: protocol as AlpnProtocol };
    }
  }
  if (!recall)
    throw new RecallError(
      RECALL_ERROR_CODES.ARCHIVE_PARSE,
      `${file}: an empty journal (the recording was killed before it began); delete it`,
    );
  return { recall, entries, damagedLines };
}
