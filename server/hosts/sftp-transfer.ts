/**
 * Sending files and folders over SFTP, keeping permission bits. Destinations follow scp: into an existing
 * remote folder under the source's name, otherwise to the destination path itself. As with rsync, a source
 * folder written with a trailing slash (`dir/`) sends its contents rather than the folder. Local symbolic links
 * are followed (the server's own files). Fetching from a device is `sftp-fetch.ts`, which trusts nothing.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';

function call<T>(run: (done: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

async function remoteStat(sftp: SFTPWrapper, path: string): Promise<Stats | undefined> {
  try {
    return await call<Stats>((done) => sftp.stat(path, done));
  } catch (error) {
    if ((error as { code?: number }).code === 2) return undefined; // SSH_FX_NO_SUCH_FILE
    throw error;
  }
}

async function remoteMkdir(sftp: SFTPWrapper, path: string): Promise<void> {
  const existing = await remoteStat(sftp, path);
  if (existing?.isDirectory()) return;
  await call<void>((done) => sftp.mkdir(path, (error) => done(error, undefined)));
}

const setRemoteMode = (sftp: SFTPWrapper, path: string, mode: number): Promise<void> =>
  call<void>((done) => sftp.chmod(path, mode & 0o7777, (error) => done(error, undefined)));

async function sendOne(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  const info = await stat(local);
  if (info.isDirectory()) {
    await remoteMkdir(sftp, remote);
    for (const name of await readdir(local)) await sendOne(sftp, join(local, name), posix.join(remote, name));
  } else {
    await call<void>((done) =>
      sftp.fastPut(local, remote, { mode: info.mode & 0o7777 }, (error) => done(error, undefined)),
    );
  }
  // After the contents, so a read-only folder can still be filled; explicit, because the server applies its umask.
  await setRemoteMode(sftp, remote, info.mode);
}

function trimmed(path: string): { path: string; contents: boolean } {
  const contents = path.length > 1 && path.endsWith('/');
  return { path: contents ? path.replace(/\/+$/, '') : path, contents };
}

/** Sends local files and folders; several sources need an existing remote folder. */
export async function sendPaths(
  sftp: SFTPWrapper,
  sources: readonly string[],
  remote: string,
): Promise<void> {
  const remoteIsDir = (await remoteStat(sftp, remote))?.isDirectory() ?? false;
  if (sources.length > 1 && !remoteIsDir)
    throw new Error(`several sources need an existing remote folder, and ${remote} is not one`);
  for (const source of sources) {
    const { path, contents } = trimmed(source);
    if (contents && (await stat(path)).isDirectory()) {
      await remoteMkdir(sftp, remote);
      for (const name of await readdir(path)) await sendOne(sftp, join(path, name), posix.join(remote, name));
    } else {
      await sendOne(sftp, path, remoteIsDir ? posix.join(remote, basename(path)) : remote);
    }
  }
}
