/**
 * Splits a HAR document, fed in chunks, into its entries (each `log.entries[i]`, parsed on its own) and the rest
 * of the document (parsed once at the end, with `log.entries` empty). No string ever holds the whole file, so an
 * archive of any size loads, and each bound of `ArchiveLimits` is checked as the bytes arrive.
 *
 * Only structure is tracked here (strings, brackets, the keys of the two outer objects); native `JSON.parse`
 * checks the syntax of each piece. A streaming JSON library would tokenize every value in JavaScript; this way the
 * long bodies are skipped with `indexOf`.
 */
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import { formatBytes, limitError, type ArchiveLimits } from './archive-limits.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** What a byte outside strings is to the splitter: structure, whitespace, or anything else. */
const OTHER_BYTE = 0;
const SPACE_BYTE = 1;
const STRUCTURE_BYTE = 2;
const BYTE_KIND = new Uint8Array(256);
for (const byte of [0x20, 0x0a, 0x0d, 0x09]) BYTE_KIND[byte] = SPACE_BYTE;
for (const byte of [QUOTE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, COLON, COMMA]) BYTE_KIND[byte] = STRUCTURE_BYTE;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The request URL near the start of an entry, to name it in a message; best effort. */
function entryName(head: Buffer): string {
  const url = /"url"\s*:\s*"([^"\\]{1,200})/.exec(head.subarray(0, 4096).toString('latin1'));
  return url ? ` (${url[1]})` : '';
}

export class HarSplitter {
  readonly #file: string;
  readonly #limits: ArchiveLimits;
  readonly #onEntry: (value: unknown, index: number) => void;
  /** Container kinds by depth (1 = the root): OPEN_OBJECT or OPEN_ARRAY. */
  readonly #kinds: Uint8Array;
  #depth = 0;
  #offset = 0;
  #started = false;
  #bomBytes = 0;
  #inString = false;
  /** The string so far ends in an odd run of backslashes (the next byte is escaped). */
  #escaped = false;
  /** Keys of the root object and of `log`, as the parse goes, and whether a key comes next at that depth. */
  #keys: [string, string] = ['', ''];
  #expectKey = [false, false, false];
  /** Pieces of the key being read, when a string at depth 1 or 2 is a key. */
  #keyParts: Buffer[] | undefined;
  #inEntries = false;
  #entryParts: Buffer[] | undefined;
  #entryBytes = 0;
  #entries = 0;
  #rest: Buffer[] = [];
  #restBytes = 0;

  constructor(file: string, limits: ArchiveLimits, onEntry: (value: unknown, index: number) => void) {
    this.#file = file;
    this.#limits = limits;
    this.#onEntry = onEntry;
    this.#kinds = new Uint8Array(limits.maxDepth + 2);
  }

  /** Entries seen so far. */
  get entries(): number {
    return this.#entries;
  }

  write(chunk: Buffer): void {
    let from = 0;
    if (!this.#started) {
      // A UTF-8 byte order mark (Windows tools write one) may arrive split over chunks.
      while (from < chunk.length && this.#offset + from < 3 && this.#bomBytes === this.#offset + from && chunk[from] === BOM[this.#bomBytes]) {
        from++;
        this.#bomBytes++;
      }
      while (from < chunk.length && isSpace(chunk[from]!)) from++;
      if (from === chunk.length) return void (this.#offset += chunk.length);
      if (chunk[from] !== OPEN_OBJECT) {
        throw new RecallError(
          RECALL_ERROR_CODES.ARCHIVE_PARSE,
          `${this.#file}: not a HAR archive: byte ${this.#offset + from} is ${JSON.stringify(String.fromCharCode(chunk[from]!))}, not the { that opens a JSON object; check it is the right file`,
        );
      }
      this.#started = true;
    }
    // Bytes from `mark` on belong to the current piece (an entry or the rest) and are kept when the chunk ends.
    let mark = from;
    for (let i = from; i < chunk.length; i++) {
      if (this.#inString) {
        i = this.#skipString(chunk, i);
        if (i === chunk.length) break;
        continue;
      }
      const byte = chunk[i]!;
      const kind = BYTE_KIND[byte]!;
      if (kind === OTHER_BYTE) {
        if (this.#inEntries && this.#depth === 3 && !this.#entryParts) throw this.#notObject();
        continue;
      }
      if (kind === SPACE_BYTE) {
        if (!this.#entryParts && !(this.#inEntries && this.#depth === 3)) {
          // Whitespace outside the entries is not kept: it cannot grow the rest of the document past its bound.
          this.#keep(chunk, mark, i);
          mark = i + 1;
        }
        continue;
      }
      if (byte === QUOTE) {
        this.#inString = true;
        if (this.#depth >= 1 && this.#depth <= 2 && this.#expectKey[this.#depth]) this.#keyParts = [];
      } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
        if (this.#inEntries && this.#depth === 3) {
          if (byte !== OPEN_OBJECT) throw this.#notObject();
          mark = i; // what came before, since the last entry, is whitespace and commas
          this.#entryParts = [];
          this.#entryBytes = 0;
          if (++this.#entries > this.#limits.maxEntries) {
            throw limitError(
              this.#file,
              `log.entries has more than ${this.#limits.maxEntries} entries`,
              'split the recording, or raise maxEntries',
            );
          }
        }
        this.#open(byte, i);
        if (
          byte === OPEN_ARRAY &&
          this.#depth === 3 &&
          this.#keys[0] === 'log' &&
          this.#keys[1] === 'entries' &&
          this.#kinds[2] === OPEN_OBJECT
        ) {
          this.#keep(chunk, mark, i + 1);
          mark = i + 1;
          this.#inEntries = true;
        }
      } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        if (this.#depth === 0) throw this.#syntax('a closing bracket without its opening one', i);
        if (this.#inEntries && this.#depth === 3) {
          this.#inEntries = false;
          mark = i;
        }
        this.#depth--;
        if (this.#entryParts && this.#depth === 3) {
          this.#keep(chunk, mark, i + 1);
          mark = i + 1;
          this.#finishEntry();
        }
      } else if (byte === COLON) {
        if (this.#depth <= 2) this.#expectKey[this.#depth] = false;
      } else if (byte === COMMA) {
        if (this.#depth <= 2 && this.#kinds[this.#depth] === OPEN_OBJECT) this.#expectKey[this.#depth] = true;
      }
    }
    if (this.#inEntries && this.#depth === 3 && !this.#entryParts) mark = chunk.length;
    this.#keep(chunk, mark, chunk.length);
    this.#offset += chunk.length;
  }

  /** The document without its entries, once every byte was written. */
  end(): unknown {
    if (!this.#started || this.#depth > 0 || this.#inString) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_PARSE,
        `${this.#file}: not valid JSON (it ends at byte ${this.#offset} before its root object closes); the file is truncated or not a HAR archive, restore it or re-record it`,
      );
    }
    try {
      return JSON.parse(Buffer.concat(this.#rest).toString('utf8'));
    } catch (cause) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_PARSE,
        `${this.#file}: not valid JSON outside log.entries (${(cause as Error).message}); the file is damaged or not a HAR archive, restore it or re-record it`,
        { cause },
      );
    }
  }

  /** Skips string content from `i`; returns the index of the closing quote, or chunk.length. */
  #skipString(chunk: Buffer, i: number): number {
    let at = i;
    if (this.#escaped) {
      this.#escaped = false;
      at++;
    }
    for (;;) {
      const quote = chunk.indexOf(QUOTE, at);
      const end = quote < 0 ? chunk.length : quote;
      let run = 0;
      while (end - run - 1 >= at && chunk[end - run - 1] === BACKSLASH) run++;
      if (quote >= 0 && run % 2 === 1) {
        at = quote + 1;
        continue;
      }
      if (this.#keyParts && this.#keyParts.length < 8) this.#keyParts.push(chunk.subarray(i, end));
      if (quote < 0) {
        this.#escaped = run % 2 === 1;
        return chunk.length;
      }
      this.#inString = false;
      if (this.#keyParts) {
        this.#keys[this.#depth - 1] = Buffer.concat(this.#keyParts).toString('utf8');
        if (this.#depth === 1) this.#keys[1] = '';
        this.#keyParts = undefined;
      }
      return quote;
    }
  }

  #open(kind: number, i: number): void {
    if (this.#depth >= this.#limits.maxDepth) {
      throw limitError(
        this.#file,
        `arrays and objects nest deeper than ${this.#limits.maxDepth} levels (at byte ${this.#offset + i})`,
        'no real archive nests this deep: the file is damaged or hostile; re-record it',
      );
    }
    this.#depth++;
    this.#kinds[this.#depth] = kind;
    if (this.#depth <= 2) this.#expectKey[this.#depth] = kind === OPEN_OBJECT;
  }

  /** Keeps chunk[from, to) in the current piece: the entry being read, or the rest of the document. */
  #keep(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const part = chunk.subarray(from, to);
    if (this.#entryParts) {
      this.#entryParts.push(part);
      this.#entryBytes += part.length;
      if (this.#entryBytes > this.#limits.maxEntryBytes) {
        const index = this.#entries - 1;
        throw limitError(
          this.#file,
          `log.entries[${index}]${entryName(this.#entryParts[0]!)} takes more than ${formatBytes(this.#limits.maxEntryBytes)} of JSON, the limit for one entry (its body is too large to play back)`,
          'leave that response out of the recording, or raise maxEntryBytes',
        );
      }
      return;
    }
    this.#rest.push(Buffer.from(part));
    this.#restBytes += part.length;
    if (this.#restBytes > this.#limits.maxEntryBytes) {
      throw limitError(
        this.#file,
        `the document outside log.entries takes more than ${formatBytes(this.#limits.maxEntryBytes)}`,
        'no real archive has that much besides its entries: the file is damaged or hostile',
      );
    }
  }

  #finishEntry(): void {
    const index = this.#entries - 1;
    const parts = this.#entryParts!;
    const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8');
    this.#entryParts = undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_PARSE,
        `${this.#file}: log.entries[${index}] is not valid JSON (${(cause as Error).message}); the file is damaged, restore it or re-record it`,
        { cause },
      );
    }
    this.#onEntry(value, index);
  }

  #notObject(): RecallError {
    return new RecallError(
      RECALL_ERROR_CODES.ARCHIVE_INVALID,
      `${this.#file}: log.entries[${this.#entries}] is not an object; fix that value or re-record the archive`,
    );
  }

  #syntax(what: string, i: number): RecallError {
    return new RecallError(
      RECALL_ERROR_CODES.ARCHIVE_PARSE,
      `${this.#file}: not valid JSON (${what} at byte ${this.#offset + i}); the file is damaged or not a HAR archive, restore it or re-record it`,
    );
  }
}
