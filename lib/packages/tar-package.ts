/**
 * Builds one package with the system `tar` (as autotest's `tar_package` does): written to `<file>.tmp` beside the
 * target and renamed, so a reader never sees half an archive. Archives are reproducible (sorted names, mtime 0,
 * owner 0, normalised modes), so unchanged sources give identical bytes and the same md5 for a given compressor.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import { PackageError } from './package-error.js';
import { md5File } from './checksum-file.js';
import { tarballName, type PackageRef } from './package-name.js';

/** `lbzip2` is a parallel bzip2 whose output is a standard .bz2 stream; `auto` uses it when installed. */
export type Compressor = 'auto' | 'lbzip2' | 'bzip2';

export interface PackageSource {
  /** The folder whose content becomes the package (its root is the install folder's root). */
  dir: string;
  /** Members to archive, relative to `dir` (autotest's include string). @default ['.'] */
  include?: readonly string[];
  /** GNU tar `--exclude` patterns, as autotest passes them (`deps/*`, `*.pyc`). @default [] */
  exclude?: readonly string[];
}

export interface TarPackageOptions extends PackageSource {
  /** Folder the package is written to. */
  destDir: string;
  /** @default 'auto' */
  compressor?: Compressor;
}

export interface BuiltPackage {
  ref: PackageRef;
  /** `test-NAME.tar.bz2` */
  fileName: string;
  /** Absolute path of the archive. */
  path: string;
  md5: string;
}

/** Folders a client package never carries: they are installed by their own packages or hold local state. */
export const CLIENT_EXCLUDES: readonly string[] = [
  './tests',
  './site_tests',
  './deps',
  './profilers',
  './packages',
  './results',
];

let lbzip2Available: Promise<boolean> | undefined;

/** Whether `lbzip2` runs here (checked once per process). */
export function hasLbzip2(): Promise<boolean> {
  lbzip2Available ??= execa('lbzip2', ['--version'], { reject: false }).then(
    (r) => r.exitCode === 0,
    () => false,
  );
  return lbzip2Available;
}

export async function resolveCompressor(compressor: Compressor = 'auto'): Promise<'lbzip2' | 'bzip2'> {
  if (compressor !== 'auto') return compressor;
  return (await hasLbzip2()) ? 'lbzip2' : 'bzip2';
}

/** The tar arguments after `-f <file>`, shared by building and by the source fingerprint. */
export function tarArguments(
  ref: PackageRef,
  source: PackageSource,
  compressor: 'lbzip2' | 'bzip2',
): string[] {
  const include = source.include?.length ? source.include : ['.'];
  for (const member of include) {
    const normal = posix.normalize(member);
    if (posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
      throw new PackageError(
        'ERR_PACKAGE_BUILD',
        `Include "${member}" of ${tarballName(ref)} leaves ${source.dir}; give paths inside it`,
      );
    }
  }
  const args = [
    '-C',
    source.dir,
    compressor === 'lbzip2' ? '--use-compress-program=lbzip2' : '--bzip2',
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=u+rw,go-w,a+rX',
    '--format=gnu',
  ];
  // GNU tar applies --anchored to the --exclude options after it: client excludes match at the top level only,
  // user patterns keep tar's default (match anywhere), as in autotest.
  if (ref.type === 'client')
    args.push('--anchored', ...CLIENT_EXCLUDES.map((p) => `--exclude=${p}`), '--no-anchored');
  for (const pattern of source.exclude ?? []) args.push(`--exclude=${pattern}`);
  args.push('--exclude=./.checksum', '--', ...include.map((m) => (m.startsWith('-') ? `./${m}` : m)));
  return args;
}

/** Builds `<destDir>/<type>-<name>.tar.bz2` from a source folder. */
export async function tarPackage(ref: PackageRef, options: TarPackageOptions): Promise<BuiltPackage> {
  const fileName = tarballName(ref);
  const sourceStat = await stat(options.dir).catch(() => undefined);
  if (!sourceStat?.isDirectory()) {
    throw new PackageError(
      'ERR_PACKAGE_BUILD',
      `Cannot build ${fileName}: source folder ${options.dir} does not exist`,
      {
        packageName: fileName,
      },
    );
  }
  await mkdir(options.destDir, { recursive: true });
  const path = join(options.destDir, fileName);
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const compressor = await resolveCompressor(options.compressor);
  const args = ['-c', '-f', temp, ...tarArguments(ref, options, compressor)];
  const result = await execa('tar', args, { reject: false, env: { LC_ALL: 'C' } });
  if (result.exitCode !== 0) {
    await rm(temp, { force: true });
    throw new PackageError(
      'ERR_PACKAGE_BUILD',
      `Building ${fileName} from ${options.dir} failed (tar exit ${result.exitCode ?? result.signal}): ${result.stderr.trim()}`,
      { packageName: fileName },
    );
  }
  await rename(temp, path);
  return { ref, fileName, path, md5: await md5File(path) };
}
