/**
 * Package names as autotest spells them: `<type>-<name>.tar.bz2`, where the type never contains `-`
 * (`client-autotest.tar.bz2`, `test-sleeptest.tar.bz2`, `dep-pyauto_dep.tar.bz2`, `profiler-perf.tar.bz2`).
 */
import { posix } from 'node:path';
import { PackageError } from './package-error.js';

export const PACKAGE_TYPES = ['client', 'test', 'dep', 'profiler'] as const;
export type PackageType = (typeof PACKAGE_TYPES)[number];

/** The client package's only name. */
export const CLIENT_PACKAGE_NAME = 'autotest';
/** The index file every repository and every device keeps. */
export const CHECKSUM_FILE = 'packages.checksum';
/** The marker written last into an install folder: the md5 of the package untarred there. */
export const INSTALL_MARKER = '.checksum';

/** One package: its type and its name (`autotest` for the client). */
export interface PackageRef {
  readonly type: PackageType;
  readonly name: string;
}

// Names become file names and path components on the device: keep them to a safe alphabet.
const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+@-]*$/;

export function isPackageType(word: string): word is PackageType {
  return (PACKAGE_TYPES as readonly string[]).includes(word);
}

/** Checks a reference and returns it; throws `ERR_PACKAGE_NAME` with what was wrong. */
export function packageRef(
  type: string,
  name: string = type === 'client' ? CLIENT_PACKAGE_NAME : '',
): PackageRef {
  if (!isPackageType(type)) {
    throw new PackageError(
      'ERR_PACKAGE_NAME',
      `Unknown package type "${type}"; expected one of ${PACKAGE_TYPES.join(', ')}`,
    );
  }
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    throw new PackageError(
      'ERR_PACKAGE_NAME',
      `Invalid ${type} package name "${name}": use letters, digits, "_", ".", "+", "@" and "-", not starting with "-" or "."`,
    );
  }
  if (type === 'client' && name !== CLIENT_PACKAGE_NAME) {
    throw new PackageError(
      'ERR_PACKAGE_NAME',
      `The client package is always named "${CLIENT_PACKAGE_NAME}", got "${name}"`,
    );
  }
  return { type, name };
}

/** `test-sleeptest.tar.bz2` for `{ type: 'test', name: 'sleeptest' }`. */
export function tarballName(ref: PackageRef): string {
  packageRef(ref.type, ref.name);
  return `${ref.type}-${ref.name}.tar.bz2`;
}

/** The reverse of `tarballName` (autotest's `^([^-]*)-(.*)\.tar\.bz2$`); undefined for other file names. */
export function parseTarballName(fileName: string): PackageRef | undefined {
  const match = /^([^-]*)-(.*)\.tar\.bz2$/.exec(fileName);
  if (!match || !isPackageType(match[1]!)) return undefined;
  try {
    return packageRef(match[1]!, match[2]!);
  } catch {
    return undefined; // not one of ours: callers skip unrelated files
  }
}

/** Where a package is installed under the client's root: the root itself, or tests/, deps/, profilers/. */
export function installDirFor(autodir: string, ref: PackageRef): string {
  switch (ref.type) {
    case 'client':
      return autodir;
    case 'test':
      return posix.join(autodir, 'tests', ref.name);
    case 'dep':
      return posix.join(autodir, 'deps', ref.name);
    case 'profiler':
      return posix.join(autodir, 'profilers', ref.name);
  }
}

/** Parses `test:sleeptest`, `test-sleeptest`, `test-sleeptest.tar.bz2` or `client`. */
export function parsePackageSpec(spec: string): PackageRef {
  const fromFile = parseTarballName(spec);
  if (fromFile) return fromFile;
  const match = /^([a-z]+)(?:[:-](.+))?$/.exec(spec);
  if (!match)
    throw new PackageError(
      'ERR_PACKAGE_NAME',
      `Cannot read package "${spec}"; write it as TYPE:NAME, such as test:sleeptest`,
    );
  return packageRef(match[1]!, match[2]);
}
