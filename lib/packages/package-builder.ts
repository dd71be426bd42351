/**
 * Builds packages on demand with a per-process cache keyed by (package, source fingerprint): concurrent installs on
 * many devices share one in-flight build, and a later request for an unchanged source reuses the archive, also
 * across processes (the fingerprint is stored beside the archive in the cache folder).
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { silentLogger, type Logger } from '../logging.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { md5File } from './checksum-file.js';
import { tarballName, type PackageRef } from './package-name.js';
import {
  resolveCompressor,
  tarArguments,
  tarPackage,
  type BuiltPackage,
  type Compressor,
  type PackageSource,
} from './tar-package.js';

export interface PackageBuilderOptions {
  /** Folder for built archives. @default `<tmpdir>/autotest-packages-<uid>` */
  cacheDir?: string;
  /** @default 'auto' */
  compressor?: Compressor;
  logger?: Logger;
}

export class PackageBuilder {
  readonly cacheDir: string;
  readonly #compressor: Compressor;
  readonly #logger: Logger;
  readonly #builds = new Map<string, Promise<BuiltPackage>>();
  /** How many archives this builder actually made (cache hits excluded). */
  buildCount = 0;

  constructor(options: PackageBuilderOptions = {}) {
    this.cacheDir = options.cacheDir ?? join(tmpdir(), `autotest-packages-${process.getuid?.() ?? 'user'}`);
    this.#compressor = options.compressor ?? 'auto';
    this.#logger = (options.logger ?? silentLogger).child({ component: 'package-builder' });
  }

  /** The package built from `source`, from the cache when the source is unchanged. */
  async build(ref: PackageRef, source: PackageSource): Promise<BuiltPackage> {
    const compressor = await resolveCompressor(this.#compressor);
    const fingerprint = await sourceFingerprint(source, tarArguments(ref, source, compressor));
    const key = `${tarballName(ref)}:${fingerprint}`;
    let build = this.#builds.get(key);
    if (!build) {
      build = this.#buildOnce(ref, source, compressor, fingerprint);
      this.#builds.set(key, build);
      build.catch(() => this.#builds.delete(key)); // a failed build is retried by the next caller
    }
    return build;
  }

  async #buildOnce(
    ref: PackageRef,
    source: PackageSource,
    compressor: 'lbzip2' | 'bzip2',
    fingerprint: string,
  ): Promise<BuiltPackage> {
    const fileName = tarballName(ref);
    const destDir = join(this.cacheDir, ref.type, ref.name);
    const path = join(destDir, fileName);
    const stampPath = `${path}.source`;
    const stamp = await readFile(stampPath, 'utf8').catch(() => '');
    if (stamp === fingerprint && (await stat(path).catch(() => undefined))?.isFile()) {
      this.#logger.debug({ package: fileName }, 'source unchanged, reusing the cached build');
      return { ref, fileName, path, md5: await md5File(path) };
    }
    await rm(stampPath, { force: true });
    this.#logger.info({ package: fileName, source: source.dir }, 'building package from source');
    const built = await tarPackage(ref, { ...source, destDir, compressor });
    this.buildCount += 1;
    await writeFileAtomic(stampPath, fingerprint);
    return built;
  }
}

/**
 * A hash of every path, type, mode, size, mtime and link target under the source folder, plus the tar arguments.
 * Cheap (no file is read) and changes whenever a build could.
 */
export async function sourceFingerprint(source: PackageSource, args: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(args));
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const info = await lstat(path);
      const link = info.isSymbolicLink() ? await readlink(path) : '';
      hash.update(`${relative(source.dir, path)}\0${info.mode}\0${info.size}\0${info.mtimeMs}\0${link}\n`);
      if (info.isDirectory()) await walk(path);
    }
  };
  await walk(source.dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    hash.update('missing'); // tarPackage reports the missing folder with a clear error
  });
  return hash.digest('hex');
}

let sharedBuilder: PackageBuilder | undefined;

/** The process-wide builder that PackageManagers use unless given one. */
export function defaultPackageBuilder(): PackageBuilder {
  sharedBuilder ??= new PackageBuilder();
  return sharedBuilder;
}
