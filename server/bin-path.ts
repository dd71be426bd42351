/**
 * A folder holding this package's commands under their own names (every "bin" of package.json: autoserv,
 * run-remote, lab, recall, packager, …), to put first on PATH where commands run for the user, such as
 * inside `lab run`, so they are the commands of this checkout whatever the caller's PATH holds.
 */
import { mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../lib/package-root.js';

function linkBins(dir: string): void {
  const { bin = {} } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  mkdirSync(dir, { recursive: true });
  for (const [name, file] of Object.entries(bin)) {
    const link = join(dir, name);
    const target = join(packageRoot, file);
    try {
      if (readlinkSync(link) === target) continue;
      rmSync(link, { force: true });
    } catch {
      // no link yet
    }
    try {
      symlinkSync(target, link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it meanwhile
    }
  }
}

/** Makes (or refreshes) the folder and returns it: `dist/path/` in the package, or a temporary one if that is read-only. */
export function binPathDir(): string {
  for (const dir of [join(packageRoot, 'dist', 'path'), join(tmpdir(), `autotest-path-${process.getuid?.() ?? 'user'}`)]) {
    try {
      linkBins(dir);
      return dir;
    } catch {
      // not writable: try the next place
    }
  }
  throw new Error(`cannot make a folder of autotest's commands under ${packageRoot}/dist or ${tmpdir()}`);
}

/** PATH with the package's commands first. */
export function pathWithBins(path: string | undefined = process.env.PATH): string {
  return [binPathDir(), ...(path ? [path] : [])].join(delimiter);
}
