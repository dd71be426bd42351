/**
 * Reads an archive file as a stream: gunzip (recognised by its magic bytes) with a bound on the decompressed
 * size, then `HarSplitter`, which hands over each entry as soon as it is complete. Memory follows what is kept
 * (the decoded exchanges), not the size of the file.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { RecallError, RECALL_ERROR_CODES } from '../errors.js';
import { formatBytes, limitError, type ArchiveLimits } from './archive-limits.js';
import { HarSplitter } from './har-splitter.js';

function readError(file: string, cause: unknown): RecallError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
  return new RecallError(
    RECALL_ERROR_CODES.ARCHIVE_READ,
    `${file}: cannot read the archive (${code}); check the path`,
    { cause },
  );
}

async function isGzipFile(handle: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(2);
  const { bytesRead } = await handle.read(head, 0, 2, 0);
  return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Streams `file` through the splitter: `onEntry` gets each `log.entries[i]` parsed, in order; the result is the
 * document with `log.entries` empty.
 * @throws RecallError ERR_ARCHIVE_READ, ERR_ARCHIVE_PARSE, ERR_ARCHIVE_LIMIT, ERR_ARCHIVE_INVALID (from onEntry)
 */
export async function readHarFile(
  file: string,
  limits: ArchiveLimits,
  onEntry: (value: unknown, index: number) => void,
): Promise<unknown> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    throw readError(file, cause);
  }
  try {
    const gzip = await isGzipFile(handle);
    if (!gzip && file.endsWith('.gz')) {
      throw new RecallError(
        RECALL_ERROR_CODES.ARCHIVE_PARSE,
        `${file}: the name ends in .gz but the file is not gzip; rename it or re-record it`,
      );
    }
    const raw = handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 20 });
    const stream: Readable = gzip ? raw.pipe(createGunzip({ chunkSize: 1 << 18 })) : raw;
    if (gzip) raw.on('error', (error) => stream.destroy(error));
    const splitter = new HarSplitter(file, limits, onEntry);
    let total = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > limits.maxArchiveBytes) {
          throw limitError(
            file,
            `${gzip ? 'the archive decompresses past' : 'the archive is larger than'} ${formatBytes(limits.maxArchiveBytes)}${gzip ? ' (a gzip bomb, or a recording too large to load)' : ''}`,
            'split the recording, or raise maxArchiveBytes',
          );
        }
        splitter.write(chunk);
      }
    } catch (cause) {
      raw.destroy();
      if (cause instanceof RecallError) throw cause;
      if (gzip && (cause as NodeJS.ErrnoException).code?.startsWith('Z_')) {
        throw new RecallError(
          RECALL_ERROR_CODES.ARCHIVE_PARSE,
          `${file}: the gzip data is damaged or truncated (${(cause as Error).message}); restore the file or re-record it`,
          { cause },
        );
      }
      throw readError(file, cause);
    }
    return splitter.end();
  } finally {
    await handle.close();
  }
}
