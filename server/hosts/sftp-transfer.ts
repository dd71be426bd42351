/**
 * File and folder transfers over SFTP, keeping permission bits. Destinations follow scp: into an existing
 * remote folder under the source's name, otherwise to the destination path itself. As with rsync, a source
 * folder written with a trailing slash (`dir/`) sends its contents rather than the folder. Symbolic links are
 * followed.
 */
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
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

async function getOne(sftp: SFTPWrapper, remote: string, local: string): Promise<void> {
  const info = await call<Stats>((done) => sftp.stat(remote, done));
  if (info.isDirectory()) {
    await mkdir(local, { recursive: true });
    const entries = await call<{ filename: string }[]>((done) => sftp.readdir(remote, done));
    for (const { filename } of entries)
      await getOne(sftp, posix.join(remote, filename), join(local, filename));
  } else {
    await call<void>((done) => sftp.fastGet(remote, local, (error) => done(error, undefined)));
  }
  await chmod(local, info.mode & 0o7777);
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

/** Fetches remote files and folders; several sources need an existing local folder. */
export async function getPaths(sftp: SFTPWrapper, sources: readonly string[], local: string): Promise<void> {
  const localIsDir = await stat(local).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (sources.length > 1 && !localIsDir)
    throw new Error(`several sources need an existing local folder, and ${local} is not one`);
  for (const source of sources) {
    const { path, contents } = trimmed(source);
    if (contents && (await remoteStat(sftp, path))?.isDirectory()) {
      await mkdir(local, { recursive: true });
      const entries = await call<{ filename: string }[]>((done) => sftp.readdir(path, done));
      for (const { filename } of entries)
        await getOne(sftp, posix.join(path, filename), join(local, filename));
    } else {
      await getOne(sftp, path, localIsDir ? join(local, posix.basename(path)) : local);
    }
  }
}
