/**
 * Fetching files and folders from a device over SFTP. The device is untrusted: a compromised one can answer
 * `readdir` with names like `../../etc/cron.d/x`, plant link loops, or offer an endless tree, and the server
 * writes what it fetches as root. So every name is checked before it becomes a local path, links are never
 * followed (only regular files and folders are fetched), and depth, file count and bytes are bounded.
 */
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { FileEntry, SFTPWrapper, Stats } from 'ssh2';
import { AutotestError } from '../../lib/errors.js';

/** Bounds of one fetch; the defaults hold any real results folder. */
export interface FetchLimits {
  /** Folders below the source. @default 32 */
  maxDepth?: number;
  /** Files and folders in all. @default 100_000 */
  maxEntries?: number;
  /** Bytes of file contents in all. @default 4 GiB */
  maxBytes?: number;
}

export const DEFAULT_FETCH_LIMITS: Required<FetchLimits> = { maxDepth: 32, maxEntries: 100_000, maxBytes: 4 * 1024 ** 3 };

/** The device offered a name or a tree the server will not write. */
export class FetchRefusedError extends AutotestError {}

const call = <T>(run: (done: (error: Error | null | undefined, value: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));

/** A name from the device's `readdir` that is safe to join to a local folder. */
export function checkRemoteName(name: string, folder: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || name.includes('\\')) {
    throw new FetchRefusedError('ERR_FETCH_UNSAFE_NAME', `the device listed ${JSON.stringify(name)} in ${folder}: a file name with '/', '\\', NUL, or '.'/'..' could write outside the results folder, so nothing more is fetched`);
  }
  return name;
}

class FetchBudget {
  entries = 0;
  bytes = 0;
  constructor(
    readonly limits: Required<FetchLimits>,
    readonly source: string,
  ) {}

  take(path: string, depth: number, size: number): void {
    const { maxDepth, maxEntries, maxBytes } = this.limits;
    if (depth > maxDepth) this.#refuse('maxDepth', `${path} is ${depth} folders deep, past ${maxDepth}`);
    if (++this.entries > maxEntries) this.#refuse('maxEntries', `more than ${maxEntries} files and folders`);
    this.bytes += size;
    if (this.bytes > maxBytes) this.#refuse('maxBytes', `more than ${maxBytes} bytes (at ${path})`);
  }

  #refuse(bound: string, what: string): never {
    throw new FetchRefusedError('ERR_FETCH_LIMIT', `fetching ${this.source} stopped at the ${bound} bound: ${what}; clean the device's results or raise ${bound}`);
  }
}

async function fetchFile(sftp: SFTPWrapper, remote: string, local: string, mode: number): Promise<void> {
  await call<void>((done) => sftp.fastGet(remote, local, (error) => done(error, undefined)));
  await chmod(local, mode & 0o777);
}

// File types from the mode bits the device sent (readdir's attributes are lstat's: a link is S_IFLNK).
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** Fetches the contents of `remote` (a folder) into `local`, entry by entry, without following links. */
async function fetchTree(sftp: SFTPWrapper, remote: string, local: string, depth: number, budget: FetchBudget): Promise<void> {
  await mkdir(local, { recursive: true });
  const entries = await call<FileEntry[]>((done) => sftp.readdir(remote, done));
  for (const { filename, attrs } of entries) {
    const name = checkRemoteName(filename, remote);
    const remotePath = posix.join(remote, name);
    const localPath = join(local, name);
    const type = attrs.mode & S_IFMT;
    if (type === S_IFDIR) {
      budget.take(remotePath, depth + 1, 0);
      await fetchTree(sftp, remotePath, localPath, depth + 1, budget);
      await chmod(localPath, (attrs.mode & 0o777) | 0o700);
    } else if (type === S_IFREG) {
      budget.take(remotePath, depth, attrs.size);
      await fetchFile(sftp, remotePath, localPath, attrs.mode);
    }
    // Links, sockets, fifos and devices are skipped: following a link could loop or reach outside the folder.
  }
}

function trimmed(path: string): { path: string; contents: boolean } {
  const contents = path.length > 1 && path.endsWith('/');
  return { path: contents ? path.replace(/\/+$/, '') : path, contents };
}

/**
 * Fetches remote files and folders; several sources need an existing local folder. `dir/` fetches the
 * folder's contents. The sources themselves are the server's own paths; only what the device lists under
 * them is checked.
 */
export async function getPaths(sftp: SFTPWrapper, sources: readonly string[], local: string, limits: FetchLimits = {}): Promise<void> {
  const localIsDir = await stat(local).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (sources.length > 1 && !localIsDir) throw new Error(`several sources need an existing local folder, and ${local} is not one`);
  for (const source of sources) {
    const { path, contents } = trimmed(source);
    const budget = new FetchBudget({ ...DEFAULT_FETCH_LIMITS, ...limits }, path);
    const info = await call<Stats>((done) => sftp.lstat(path, done));
    if (info.isDirectory()) {
      const target = contents ? local : localIsDir ? join(local, checkRemoteName(posix.basename(path), posix.dirname(path))) : local;
      await fetchTree(sftp, path, target, 0, budget);
    } else if (info.isFile()) {
      budget.take(path, 0, info.size);
      await fetchFile(sftp, path, localIsDir ? join(local, checkRemoteName(posix.basename(path), posix.dirname(path))) : local, info.mode);
    } else {
      throw new FetchRefusedError('ERR_FETCH_NOT_A_FILE', `${path} on the device is not a regular file or folder (a link is not followed)`);
    }
  }
}
