/**
 * Atomic file writes: write a temporary file beside the target, flush it, then rename it over the target,
 * so a reader (or a crash) sees either the old content or the new one, never half of it.
 *
 * A process killed mid-write leaves its temporary file (`.NAME.PID.HEX.tmp`) behind; the next atomic write of the
 * same target, or `removeStaleTemporaries`, deletes those whose process is gone.
 */
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface WriteFileAtomicOptions {
  /** File mode of the new file. @default 0o644 */
  mode?: number;
}

function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary files that interrupted atomic writes of `path` left (their writer's process is gone).
 * Best effort: never throws. Returns the names removed.
 */
export async function removeStaleTemporaries(path: string): Promise<string[]> {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const stale = names.filter((name) => {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) return false;
    const match = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    return match !== null && !isAlive(Number(match[1]));
  });
  await Promise.all(stale.map((name) => rm(join(dirname(path), name), { force: true }).catch(() => {})));
  return stale;
}

/** Writes through `write` into a temporary file, flushes it, and renames it over `path`. */
async function replaceAtomically(path: string, mode: number, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  await removeStaleTemporaries(path);
  const temp = temporaryPath(path);
  const handle = await open(temp, 'w', mode);
  try {
    await write(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): Promise<void> {
  await replaceAtomically(path, options.mode ?? 0o644, (handle) => handle.writeFile(data));
}

/**
 * Like `writeFileAtomic`, for content too large to hold at once: writes the chunks `source` yields, in order.
 * The target appears only once every chunk is on disk; an error (from `source` or the disk) leaves it untouched.
 */
export async function writeStreamAtomic(
  path: string,
  source: AsyncIterable<Uint8Array>,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  await replaceAtomically(path, options.mode ?? 0o644, async (handle) => {
    for await (const chunk of source) {
      for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at)).bytesWritten;
    }
  });
}
