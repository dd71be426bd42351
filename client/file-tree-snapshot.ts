/**
 * A byte-for-byte copy, in memory, of a small folder (files, symbolic links, sub-folders and their modes), and
 * its restoration. Tools such as update-ca-certificates rewrite more than the file we add (they regenerate the
 * bundle, fix links, run hooks), so removing our file afterwards is not enough to give back what was there.
 */
import { lstat, mkdir, readdir, readFile, readlink, rm, symlink, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/fs-atomic.js';

type Entry =
  | { readonly kind: 'dir'; readonly mode: number }
  | { readonly kind: 'file'; readonly mode: number; readonly data: Buffer }
  | { readonly kind: 'link'; readonly target: string };

export class FileTreeSnapshot {
  readonly root: string;
  readonly #entries: ReadonlyMap<string, Entry>;

  private constructor(root: string, entries: ReadonlyMap<string, Entry>) {
    this.root = root;
    this.#entries = entries;
  }

  /** Reads every entry under `root` (which must be a folder). */
  static async take(root: string): Promise<FileTreeSnapshot> {
    return new FileTreeSnapshot(root, await readTree(root));
  }

  /** Puts the folder back as it was: removes what appeared, rewrites what changed. Untouched entries stay as they are. */
  async restore(): Promise<void> {
    const now = await readTree(this.root);
    // Deepest paths first, so a folder is emptied before it is removed.
    for (const path of [...now.keys()].sort((a, b) => b.length - a.length)) {
      const before = this.#entries.get(path);
      const current = now.get(path)!;
      if (!before || before.kind !== current.kind) await rm(join(this.root, path), { recursive: true, force: true });
    }
    for (const [path, before] of [...this.#entries].sort(([a], [b]) => a.length - b.length)) {
      const target = join(this.root, path);
      const current = (await readTree(this.root, path)).get(path);
      if (before.kind === 'dir') {
        if (!current) await mkdir(target, { mode: before.mode });
        if (!current || (current.kind === 'dir' && current.mode !== before.mode)) await chmod(target, before.mode);
      } else if (before.kind === 'link') {
        if (current?.kind === 'link' && current.target === before.target) continue;
        await rm(target, { force: true });
        await symlink(before.target, target);
      } else if (!(current?.kind === 'file' && current.mode === before.mode && current.data.equals(before.data))) {
        await writeFileAtomic(target, before.data, { mode: before.mode });
        await chmod(target, before.mode);
      }
    }
  }
}

/** Entries under `root` keyed by relative path ('' is the root); with `only`, just that one path if it exists. */
async function readTree(root: string, only?: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const visit = async (relative: string, recurse: boolean): Promise<void> => {
    const path = join(root, relative);
    const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!stat) return;
    if (stat.isSymbolicLink()) out.set(relative, { kind: 'link', target: await readlink(path) });
    else if (stat.isFile()) out.set(relative, { kind: 'file', mode: stat.mode & 0o7777, data: await readFile(path) });
    else if (stat.isDirectory()) {
      out.set(relative, { kind: 'dir', mode: stat.mode & 0o7777 });
      if (recurse) for (const name of await readdir(path)) await visit(relative ? join(relative, name) : name, true);
    }
  };
  await visit(only ?? '', only === undefined);
  return out;
}
