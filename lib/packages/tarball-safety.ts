/**
 * Refuses archives with entries that would land outside their install folder: absolute names, `..` that climbs out,
 * symbolic links pointing out (absolute, or relative through `..`, also through earlier links), hard links to
 * outside names, and device nodes. Works on `tar -tv` listings so the same check covers a package on the server
 * (listed with execa) and one fetched by the device (listed there, checked here).
 */
import { posix } from 'node:path';
import { execa } from 'execa';
import { PackageError } from './package-error.js';

export interface TarEntry {
  /** `-` file, `d` folder, `l` symbolic link, `h` hard link, `p` fifo, `c`/`b` device. */
  type: string;
  name: string;
  /** Link target for `l` and `h`. */
  target?: string;
}

// GNU tar: `-rw-r--r-- 0/0  3 1970-01-01 00:00 ./a`; busybox adds seconds; devices show `major,minor` as size.
const LINE = /^(\S)\S{9}\s+\S+\s+\d+(?:,\s*\d+)?\s+\d{4}-\d\d-\d\d\s+\d\d:\d\d(?::\d\d)?\s(.*)$/;

/** Parses the lines of `tar -tv`; a line it cannot read makes the listing unsafe (fail closed). */
export function parseTarListing(listing: string, packageName: string): TarEntry[] {
  const entries: TarEntry[] = [];
  for (const line of listing.split('\n')) {
    if (!line.trim()) continue;
    const match = LINE.exec(line);
    if (!match) throw unsafe(packageName, `cannot read the archive listing line "${line}"`);
    const type = match[1]!;
    const rest = match[2]!;
    const separator = type === 'l' ? ' -> ' : type === 'h' ? ' link to ' : undefined;
    if (!separator) {
      entries.push({ type, name: rest });
      continue;
    }
    const parts = rest.split(separator);
    // A name or target that contains the separator itself is ambiguous: refuse rather than guess.
    if (parts.length !== 2) throw unsafe(packageName, `ambiguous link entry "${rest}"`);
    entries.push({ type, name: parts[0]!, target: parts[1]! });
  }
  return entries;
}

/** Throws `ERR_PACKAGE_UNSAFE_PATH` naming the first entry that would escape its install folder. */
export function assertEntriesSafe(entries: readonly TarEntry[], packageName: string): void {
  const links = new Map<string, string[]>(); // symbolic link path (inside) -> resolved target components
  for (const entry of entries) {
    if (entry.type === 'c' || entry.type === 'b')
      throw unsafe(packageName, `"${entry.name}" is a device node`);
    if (posix.isAbsolute(entry.name)) throw unsafe(packageName, `"${entry.name}" is an absolute path`);
    const own = resolve(splitPath(entry.name), links, false);
    if (!own) throw unsafe(packageName, `"${entry.name}" climbs out of the install folder`);
    if (entry.type === 'l') {
      const target = entry.target ?? '';
      if (posix.isAbsolute(target))
        throw unsafe(packageName, `link "${entry.name}" points to the absolute path "${target}"`);
      const resolved = resolve([...own.slice(0, -1), ...splitPath(target)], links, true);
      if (!resolved)
        throw unsafe(packageName, `link "${entry.name}" points out of the install folder ("${target}")`);
      links.set(own.join('/'), resolved);
    } else if (entry.type === 'h') {
      const target = entry.target ?? '';
      if (posix.isAbsolute(target) || !resolve(splitPath(target), links, true)) {
        throw unsafe(packageName, `hard link "${entry.name}" points out of the install folder ("${target}")`);
      }
    }
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * Resolves components from the install root, following known links in every parent (and in the last component
 * when `followLast`). Returns undefined when the path climbs out or the links loop.
 */
function resolve(parts: string[], links: Map<string, string[]>, followLast: boolean): string[] | undefined {
  const pending = [...parts];
  const done: string[] = [];
  let expansions = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      if (done.length === 0) return undefined;
      done.pop();
      continue;
    }
    done.push(part);
    const target = links.get(done.join('/'));
    if (target && (pending.length > 0 || followLast)) {
      if (++expansions > 64) return undefined;
      done.length = 0;
      pending.unshift(...target);
    }
  }
  return done;
}

function unsafe(packageName: string, why: string): PackageError {
  return new PackageError(
    'ERR_PACKAGE_UNSAFE_PATH',
    `Refusing to install ${packageName}: ${why}. Rebuild the package from a clean source folder; never install archives from an untrusted repository`,
    { packageName },
  );
}

const checkedDigests = new Set<string>();

/** Whether an archive with this md5 was already checked in this process (the check is then skipped). */
export function isKnownSafe(md5: string): boolean {
  return checkedDigests.has(md5);
}

/** Checks a listing and remembers the digest as safe. */
export function assertListingSafe(listing: string, packageName: string, md5?: string): void {
  assertEntriesSafe(parseTarListing(listing, packageName), packageName);
  if (md5) checkedDigests.add(md5);
}

/** Lists and checks a .tar.bz2 on this machine; an unreadable archive is `ERR_PACKAGE_CORRUPT`. */
export async function assertTarballSafe(path: string, packageName: string, md5?: string): Promise<void> {
  if (md5 && checkedDigests.has(md5)) return;
  const result = await execa('tar', ['-tvjf', path], { reject: false, env: { LC_ALL: 'C' } });
  if (result.exitCode !== 0) {
    throw new PackageError(
      'ERR_PACKAGE_CORRUPT',
      `${packageName} at ${path} is not a readable .tar.bz2: ${result.stderr.trim()}`,
      {
        packageName,
      },
    );
  }
  assertListingSafe(result.stdout, packageName, md5);
}
