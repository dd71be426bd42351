/**
 * The Recall archive: an HTTP Archive (HAR 1.2) file, gzip-compressed when its name ends in `.gz`, with the
 * recording's initial state and DNS answers in the `log._recall` extension (see docs/recall.md).
 *
 * Loading streams the file (any size, within `ArchiveLimits`), validates every entry, and skips with a warning
 * the entries that cannot be played back. Saving sorts the entries by start time, then URL and method, keeping
 * recorded order among equal keys (the order playback serves them in), so the same recording always gives the
 * same file, and streams them into a temporary file renamed over the target (mode 0600). While recording,
 * `journalTo` keeps every completed exchange on disk, so a killed recording can still be recovered.
 */
import { access, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from 'pino';
import { removeStaleTemporaries } from '../../fs-atomic.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import {
  RECALL_ARCHIVE_VERSION,
  type HarFile,
  type RecallLogExtension,
  type RecordedExchange,
} from './archive-types.js';
import type { RecordedDnsAnswer } from '../dns/dns-types.js';
import { exchangeToHarEntry, harEntryToExchange, urlOf } from './archive-codec.js';
import { HarValidator } from './archive-validate.js';
import { archiveLimits, type ArchiveLimits } from './archive-limits.js';
import { readHarFile } from './archive-reader.js';
import { harJsonChunks, writeArchiveFile, type HarParts } from './archive-writer.js';
import { ArchiveJournal, journalPath, readJournal } from './archive-journal.js';
import type { SkipKind } from './entry-skips.js';
import { compareDns, sortedExchanges } from './archive-order.js';
import { isForeignHar, madeUpDnsAnswers } from './foreign-archive.js';

/** Name and version written into `log.creator`. */
export const ARCHIVE_CREATOR = { name: 'autotest-recall', version: '0.1.0' } as const;

export interface ArchiveOptions {
  /** Seed of the deterministic `Math.random`. @default a random 32-bit integer */
  randomSeed?: number;
  /** Start of the recording (the replayed clock). @default now */
  startedDateTime?: Date;
}

export interface ArchiveLoadOptions {
  /** Bounds on the file (decompressed size, entries, one entry, nesting). @default DEFAULT_ARCHIVE_LIMITS */
  limits?: Partial<ArchiveLimits>;
  /** Called with each warning (entries skipped, a journal found); they are also in `archive.warnings`. */
  onWarning?: (message: string) => void;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export class Archive {
  /** The `log._recall` fields: initial state of the recording and its DNS answers. */
  readonly recall: RecallLogExtension;
  readonly #exchanges: RecordedExchange[];
  /** Warnings of `load` (entries skipped, journal found), one per kind. */
  readonly warnings: string[] = [];
  /** Entries `load` skipped because they cannot be played back, by kind. */
  skipped: Partial<Record<SkipKind, number>> = {};
  #journal: ArchiveJournal | undefined;

  private constructor(recall: RecallLogExtension, exchanges: RecordedExchange[]) {
    this.recall = recall;
    this.#exchanges = exchanges;
  }

  /** An empty archive for a new recording. */
  static create(options: ArchiveOptions = {}): Archive {
    const seed = options.randomSeed ?? Math.floor(Math.random() * 2 ** 32);
    if (!Number.isFinite(seed)) {
      throw new RecallError(
        RECALL_ERROR_CODES.INVALID_OPTION,
        `Expected randomSeed to be a finite number, got ${String(seed)}`,
      );
    }
    const started = (options.startedDateTime ?? new Date()).toISOString();
    return new Archive(
      { version: RECALL_ARCHIVE_VERSION, startedDateTime: started, randomSeed: seed, dns: [] },
      [],
    );
  }

  /**
   * Builds an archive from a parsed HAR document (entries that cannot be played back are skipped, see `warnings`).
   * @param source names the document in error messages (a file name).
   * @throws RecallError ERR_ARCHIVE_INVALID / ERR_ARCHIVE_VERSION
   */
  static fromHar(value: unknown, source = '<archive>'): Archive {
    const validator = new HarValidator(source);
    const foreign = isForeignHar(value);
    const recall = validator.log(value);
    const entries = (value as HarFile).log.entries as unknown[];
    const exchanges: RecordedExchange[] = [];
    entries.forEach((entry, i) => {
      const checked = validator.entry(entry, i);
      if (checked) exchanges.push(harEntryToExchange(checked));
    });
    const dns = foreign ? madeUpDnsAnswers(exchanges.map((e) => e.request.host)) : [...recall.dns];
    return Archive.#checked(new Archive({ ...recall, dns }, exchanges), validator);
  }

  static #checked(archive: Archive, validator: HarValidator, onWarning?: (message: string) => void): Archive {
    archive.skipped = validator.skips.counts();
    for (const warning of validator.skips.warnings(validator.file)) archive.#warn(warning, onWarning);
    return archive;
  }

  #warn(message: string, onWarning?: (message: string) => void): void {
    this.warnings.push(message);
    onWarning?.(message);
  }

  /**
   * Reads an archive file, streaming (gzip is recognised by its magic bytes, whatever the name). A file ending
   * in `.journal` is read as the journal of an interrupted recording; so is `FILE.journal` when FILE is missing.
   * @throws RecallError ERR_ARCHIVE_READ, ERR_ARCHIVE_PARSE, ERR_ARCHIVE_INVALID, ERR_ARCHIVE_VERSION,
   *   ERR_ARCHIVE_LIMIT (the message names the bound)
   */
  static async load(file: string, options: ArchiveLoadOptions = {}): Promise<Archive> {
    const limits = archiveLimits(options.limits);
    const journal = journalPath(file);
    if (file.endsWith('.journal')) return Archive.#fromJournal(file, limits, options.onWarning);
    if (!(await exists(file)) && (await exists(journal))) {
      const archive = await Archive.#fromJournal(journal, limits, options.onWarning);
      archive.#warn(
        `${file} is missing: loaded the ${archive.size} exchanges of the interrupted recording in ${journal}; \`recall recover ${file}\` saves them as ${file}`,
        options.onWarning,
      );
      return archive;
    }
    const validator = new HarValidator(file);
    const exchanges: RecordedExchange[] = [];
    const root = await readHarFile(file, limits, (entry, i) => {
      const checked = validator.entry(entry, i);
      if (checked) exchanges.push(harEntryToExchange(checked));
    });
    const foreign = isForeignHar(root);
    const recall = validator.log(root);
    // A browser's or proxy's HAR has no DNS answers: made up for its hosts, so a device can reach them.
    if (foreign) recall.dns = madeUpDnsAnswers(exchanges.map((e) => e.request.host));
    const archive = Archive.#checked(new Archive(recall, exchanges), validator, options.onWarning);
    if (await exists(journal)) {
      archive.#warn(
        `${journal} holds an interrupted recording newer than ${file}; \`recall recover ${file}\` replaces ${file} with it`,
        options.onWarning,
      );
    }
    return archive;
  }

  static async #fromJournal(
    file: string,
    limits: ArchiveLimits,
    onWarning?: (message: string) => void,
  ): Promise<Archive> {
    const validator = new HarValidator(file);
    const exchanges: RecordedExchange[] = [];
    const { recall } = await readJournal(file, (entry, i) => {
      if (i >= limits.maxEntries) {
        throw new RecallError(
          RECALL_ERROR_CODES.ARCHIVE_LIMIT,
          `${file}: more than ${limits.maxEntries} entries; raise maxEntries`,
        );
      }
      const checked = validator.entry(entry, i);
      if (checked) exchanges.push(harEntryToExchange(checked));
    });
    const checked = validator.log({ log: { version: '1.2', entries: [], _recall: recall } });
    return Archive.#checked(new Archive(checked, exchanges), validator, onWarning);
  }

  /**
   * Turns the journal of an interrupted recording into `file` (replacing it), deletes the journal and the
   * temporary files the interrupted save left. Returns the recovered archive.
   * @throws RecallError ERR_ARCHIVE_READ when there is no journal, or the errors of `load` and `save`
   */
  static async recover(file: string, options: ArchiveLoadOptions = {}): Promise<Archive> {
    const target = file.endsWith('.journal') ? file.slice(0, -'.journal'.length) : file;
    const journal = journalPath(target);
    if (!(await exists(journal))) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_READ,
        `${journal}: no journal to recover (the recording into ${target} was not interrupted)`,
      );
    }
    const archive = await Archive.#fromJournal(journal, archiveLimits(options.limits), options.onWarning);
    await archive.save(target);
    await removeStaleTemporaries(target);
    await rm(journal, { force: true });
    return archive;
  }

  /** The exchanges: in file order after `load`, in completion order while recording. */
  get exchanges(): readonly RecordedExchange[] {
    return this.#exchanges;
  }

  get size(): number {
    return this.#exchanges.length;
  }

  /** The journal this recording writes to, if any (`journalTo`). */
  get journal(): ArchiveJournal | undefined {
    return this.#journal;
  }

  /**
   * From now on, every exchange added and every DNS answer the recording gives is also appended to
   * `ARCHIVE.journal` (what is already there is written first). `save(archiveFile)` deletes the journal.
   * @throws RecallError ERR_ARCHIVE_JOURNAL when an interrupted recording's journal is there, ERR_ARCHIVE_WRITE
   */
  async journalTo(archiveFile: string, logger?: Logger): Promise<ArchiveJournal> {
    if (this.#journal)
      throw new RecallError(
        RECALL_ERROR_CODES.INVALID_OPTION,
        `the archive already journals to ${this.#journal.file}`,
      );
    const journal = await ArchiveJournal.create(journalPath(archiveFile), this.recall, logger);
    for (const exchange of this.#exchanges) await journal.appendExchange(exchange);
    this.#journal = journal;
    return journal;
  }

  /** Appends one complete exchange; the promise settles once it is in the journal (it never rejects). */
  add(exchange: RecordedExchange): Promise<void> {
    this.#exchanges.push(exchange);
    return this.#journal?.appendExchange(exchange) ?? Promise.resolve();
  }

  /** Replaces the recorded DNS answers (the DNS half calls this before saving). */
  setDnsAnswers(answers: readonly RecordedDnsAnswer[]): void {
    this.recall.dns = [...answers];
  }

  /** A new archive with only the exchanges `keep` accepts (the same `_recall` fields). */
  filter(keep: (exchange: RecordedExchange) => boolean): Archive {
    const filtered = new Archive({ ...this.recall, dns: [...this.recall.dns] }, this.#exchanges.filter(keep));
    filtered.skipped = this.skipped;
    return filtered;
  }

  /** Adds every exchange and DNS answer of `other` after this archive's own (this archive's initial state wins). */
  merge(other: Archive): void {
    for (const exchange of other.exchanges) this.#exchanges.push(exchange);
    const seen = new Set(this.recall.dns.map((a) => `${a.name} ${a.type}`));
    for (const answer of other.recall.dns)
      if (!seen.has(`${answer.name} ${answer.type}`)) this.recall.dns.push(answer);
  }

  #parts(): HarParts {
    const sorted = sortedExchanges(this.#exchanges);
    return {
      log: {
        version: '1.2',
        creator: { ...ARCHIVE_CREATOR },
        // Written in this code's format whatever the version read (a version 1 archive saved again is version 2).
        _recall: {
          ...this.recall,
          version: RECALL_ARCHIVE_VERSION,
          dns: [...this.recall.dns].sort(compareDns),
        },
      },
      entries: (function* () {
        for (const exchange of sorted) yield exchangeToHarEntry(exchange);
      })(),
      count: sorted.length,
      describe: (i) => `${sorted[i]!.request.method} ${urlOf(sorted[i]!.request)}`,
    };
  }

  /** The HAR document, entries in deterministic order (in memory: for small archives; `save` streams). */
  toHar(): HarFile {
    const { log, entries } = this.#parts();
    return {
      log: { version: log.version, creator: log.creator, entries: [...entries], _recall: log._recall },
    };
  }

  /** The file content: pretty JSON, gzip-compressed when `compress` (in memory: for small archives). */
  async serialize(compress: boolean): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of harJsonChunks(this.#parts(), '<archive>')) chunks.push(chunk);
    const json = Buffer.concat(chunks);
    if (!compress) return json;
    return promisify(gzip)(json);
  }

  /**
   * Writes the archive atomically (temporary file, then rename), streaming, mode 0600; gzip when `file` ends in
   * `.gz`. Then deletes the journal of this recording, if it journals to `file`.
   * @throws RecallError ERR_ARCHIVE_WRITE
   */
  async save(file: string): Promise<void> {
    await writeArchiveFile(file, this.#parts());
    if (this.#journal?.file === journalPath(file)) {
      await this.#journal.remove();
      this.#journal = undefined;
    }
  }
}
