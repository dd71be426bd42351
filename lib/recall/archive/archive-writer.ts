/**
 * Writes an archive file entry by entry, so its size is bounded by the disk, not by the largest string V8 can
 * make (about 512 MiB: one `JSON.stringify` of a big recording failed with "Invalid string length"). The bytes
 * are exactly those of `JSON.stringify(har, null, 2)` plus a newline, gzip-compressed when asked, written
 * atomically with mode 0600 (archives carry what the devices sent).
 */
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { writeStreamAtomic } from '../../fs-atomic.js';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import type { HarEntry, HarLog } from './archive-types.js';

/** File mode of archives and journals: only the owner may read what devices sent. */
export const ARCHIVE_FILE_MODE = 0o600;

/** Chunks handed to the disk (or gzip) are about this big. */
const BATCH_BYTES = 1 << 20;
const MARKER = '@@recall-entries@@';
/** Indentation of an entry inside `{ "log": { "entries": [` when pretty-printed with 2 spaces. */
const ENTRY_INDENT = '      ';
/** What surrounds an entry stringified inside `{ log: { entries: [entry] } }`. */
const NESTED_PREFIX = '{\n  "log": {\n    "entries": [\n';
const NESTED_SUFFIX = '\n    ]\n  }\n}';

export interface HarParts {
  /** Everything of `log` but the entries. */
  log: Omit<HarLog, 'entries'>;
  /** The entries, produced one at a time, and how many there are. */
  entries: Iterable<HarEntry>;
  count: number;
  /** Names an entry in an error message (its method and URL), by position. */
  describe: (index: number) => string;
}

/** The pretty-printed JSON of the archive, in chunks of about 1 MiB. */
export async function* harJsonChunks(parts: HarParts, file: string): AsyncGenerator<Buffer> {
  const template = JSON.stringify(
    {
      log: {
        version: parts.log.version,
        creator: parts.log.creator,
        entries: parts.count > 0 ? [MARKER] : [],
        _recall: parts.log._recall,
      },
    },
    null,
    2,
  );
  const at = template.indexOf(`${ENTRY_INDENT}"${MARKER}"`);
  if (parts.count === 0 || at < 0) return yield Buffer.from(`${template}\n`, 'utf8');
  let batch: string[] = [template.slice(0, at)];
  let batchLength = at;
  const entries = parts.entries[Symbol.iterator]();
  for (let index = 0; ; index++) {
    let json: string;
    try {
      // Making the entry (base64 of a body) and stringifying it are where a body too large for a string fails.
      const next = entries.next();
      if (next.done) break;
      // Stringified where it sits in the document, so it comes out indented as it will be in the file.
      const nested = JSON.stringify({ log: { entries: [next.value] } }, null, 2);
      json = nested.slice(NESTED_PREFIX.length, nested.length - NESTED_SUFFIX.length);
    } catch (cause) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_WRITE,
        `${file}: cannot write entry ${index} (${parts.describe(index)}): ${(cause as Error).message}; its body is too large for one archive entry, leave it out of the recording`,
        { cause },
      );
    }
    const text = index > 0 ? `,\n${json}` : json;
    batch.push(text);
    batchLength += text.length;
    if (batchLength >= BATCH_BYTES) {
      yield Buffer.from(batch.join(''), 'utf8');
      batch = [];
      batchLength = 0;
    }
  }
  batch.push(`${template.slice(at + ENTRY_INDENT.length + MARKER.length + 2)}\n`);
  yield Buffer.from(batch.join(''), 'utf8');
}

function gzipped(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const gzip = createGzip();
  // A failure of the source destroys gzip, so it surfaces where gzip is read.
  pipeline(source, gzip).catch(() => {});
  return gzip;
}

/**
 * Writes the archive atomically (temporary file, then rename), gzip when `file` ends in `.gz`, mode 0600.
 * @throws RecallError ERR_ARCHIVE_WRITE naming the file and the cause
 */
export async function writeArchiveFile(file: string, parts: HarParts): Promise<void> {
  const json = harJsonChunks(parts, file);
  try {
    await writeStreamAtomic(file, file.endsWith('.gz') ? gzipped(json) : json, { mode: ARCHIVE_FILE_MODE });
  } catch (cause) {
    if (cause instanceof RecallError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? (cause as Error).message;
    throw new RecallError(
      RECALL_ERROR_CODES.ARCHIVE_WRITE,
      `${file}: cannot write the archive (${code}); check the folder exists, is writable and has space`,
      { cause },
    );
  }
}
