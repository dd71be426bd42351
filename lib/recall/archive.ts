/**
 * The Recall archive: an HTTP Archive (HAR 1.2) file, gzip-compressed when its name ends in `.gz`, with the
 * recording's initial state and DNS answers in the `log._recall` extension (see docs/recall.md).
 *
 * Loading reads with JSON.parse only and validates everything first. Saving sorts the entries by URL and method,
 * keeping recorded order among equal keys (the order playback serves them in), so two recordings of the same
 * pages diff cleanly, and writes atomically.
 */
import { readFile } from 'node:fs/promises';
import { gzip, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../fs-atomic.js';
import { RecallError, RECALL_ERROR_CODES } from './errors.js';
import {
  RECALL_ARCHIVE_VERSION,
  type HarFile,
  type RecallLogExtension,
  type RecordedExchange,
} from './archive-types.js';
import type { RecordedDnsAnswer } from './dns-types.js';
import { exchangeToHarEntry, harEntryToExchange, urlOf } from './archive-codec.js';
import { validateHarFile } from './archive-validate.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Name and version written into `log.creator`. */
export const ARCHIVE_CREATOR = { name: 'autotest-recall', version: '0.1.0' } as const;

export interface ArchiveOptions {
  /** Seed of the deterministic `Math.random`. @default a random 32-bit integer */
  randomSeed?: number;
  /** Start of the recording (the replayed clock). @default now */
  startedDateTime?: Date;
}

function compareExchanges(a: RecordedExchange, b: RecordedExchange): number {
  const ua = urlOf(a.request);
  const ub = urlOf(b.request);
  if (ua !== ub) return ua < ub ? -1 : 1;
  if (a.request.method !== b.request.method) return a.request.method < b.request.method ? -1 : 1;
  return 0;
}

function compareDns(a: RecordedDnsAnswer, b: RecordedDnsAnswer): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return 0;
}

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export class Archive {
  /** The `log._recall` fields: initial state of the recording and its DNS answers. */
  readonly recall: RecallLogExtension;
  readonly #exchanges: RecordedExchange[];

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
   * Builds an archive from a parsed HAR document.
   * @param source names the document in error messages (a file name).
   * @throws RecallError ERR_ARCHIVE_INVALID / ERR_ARCHIVE_VERSION
   */
  static fromHar(value: unknown, source = '<archive>'): Archive {
    const har = validateHarFile(value, source);
    return new Archive(
      { ...har.log._recall, dns: [...har.log._recall.dns] },
      har.log.entries.map(harEntryToExchange),
    );
  }

  /**
   * Reads an archive file (gzip is recognised by its magic bytes, whatever the name).
   * @throws RecallError ERR_ARCHIVE_READ, ERR_ARCHIVE_PARSE, ERR_ARCHIVE_INVALID, ERR_ARCHIVE_VERSION
   */
  static async load(file: string): Promise<Archive> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_READ,
        `${file}: cannot read the archive (${code}); check the path`,
        { cause },
      );
    }
    if (isGzip(bytes)) {
      try {
        bytes = await gunzipAsync(bytes);
      } catch (cause) {
        throw new RecallError(
          RECALL_ERROR_CODES.ARCHIVE_PARSE,
          `${file}: the gzip data is damaged or truncated (${(cause as Error).message}); restore the file or re-record it`,
          { cause },
        );
      }
    } else if (file.endsWith('.gz')) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_PARSE,
        `${file}: the name ends in .gz but the file is not gzip; rename it or re-record it`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_PARSE,
        `${file}: not valid JSON (${(cause as Error).message}); the file is truncated or not a HAR archive, restore it or re-record it`,
        { cause },
      );
    }
    return Archive.fromHar(parsed, file);
  }

  /** The exchanges: in file order after `load`, in completion order while recording. */
  get exchanges(): readonly RecordedExchange[] {
    return this.#exchanges;
  }

  get size(): number {
    return this.#exchanges.length;
  }

  /** Appends one complete exchange. */
  add(exchange: RecordedExchange): void {
    this.#exchanges.push(exchange);
  }

  /** Replaces the recorded DNS answers (the DNS half calls this before saving). */
  setDnsAnswers(answers: readonly RecordedDnsAnswer[]): void {
    this.recall.dns = [...answers];
  }

  /** A new archive with only the exchanges `keep` accepts (the same `_recall` fields). */
  filter(keep: (exchange: RecordedExchange) => boolean): Archive {
    return new Archive({ ...this.recall, dns: [...this.recall.dns] }, this.#exchanges.filter(keep));
  }

  /** Adds every exchange and DNS answer of `other` after this archive's own (this archive's initial state wins). */
  merge(other: Archive): void {
    this.#exchanges.push(...other.exchanges);
    const seen = new Set(this.recall.dns.map((a) => `${a.name} ${a.type}`));
    for (const answer of other.recall.dns)
      if (!seen.has(`${answer.name} ${answer.type}`)) this.recall.dns.push(answer);
  }

  /** The HAR document, entries in deterministic order. */
  toHar(): HarFile {
    const sorted = [...this.#exchanges].sort(compareExchanges);
    return {
      log: {
        version: '1.2',
        creator: { ...ARCHIVE_CREATOR },
        entries: sorted.map(exchangeToHarEntry),
        _recall: { ...this.recall, dns: [...this.recall.dns].sort(compareDns) },
      },
    };
  }

  /** The file content: pretty JSON, gzip-compressed when `compress`. */
  async serialize(compress: boolean): Promise<Buffer> {
    const json = Buffer.from(`${JSON.stringify(this.toHar(), null, 2)}\n`, 'utf8');
    return compress ? await gzipAsync(json) : json;
  }

  /**
   * Writes the archive atomically (temporary file, then rename); gzip when `file` ends in `.gz`.
   * @throws RecallError ERR_ARCHIVE_WRITE
   */
  async save(file: string): Promise<void> {
    const data = await this.serialize(file.endsWith('.gz'));
    try {
      await writeFileAtomic(file, data);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_WRITE,
        `${file}: cannot write the archive (${code}); check the folder exists and is writable`,
        { cause },
      );
    }
  }
}
