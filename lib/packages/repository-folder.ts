/**
 * The upload side: a repository folder on the server holding `<type>-<name>.tar.bz2` files and their
 * packages.checksum, as `packager upload` writes it and `packager serve` (or any web server) serves it.
 * Archives and the index are written to a temporary name and renamed, so a device never fetches half a file.
 */
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { silentLogger, type Logger } from '../logging.js';
import { md5File, readChecksumFile, writeChecksumFile, type ChecksumMap } from './checksum-file.js';
import { PackageError } from './package-error.js';
import { CHECKSUM_FILE, parseTarballName, tarballName, type PackageRef } from './package-name.js';
import { tarPackage, type Compressor, type PackageSource } from './tar-package.js';
import { assertTarballSafe } from './tarball-safety.js';

export interface RepositoryFolderOptions {
  /** @default 'auto' */
  compressor?: Compressor;
  logger?: Logger;
}

export interface UploadResult {
  fileName: string;
  md5: string;
  /** False when the repository already held identical bytes. */
  changed: boolean;
}

export class RepositoryFolder {
  readonly #compressor: Compressor;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    options: RepositoryFolderOptions = {},
  ) {
    this.#compressor = options.compressor ?? 'auto';
    this.#logger = (options.logger ?? silentLogger).child({ component: 'repository', repository: dir });
  }

  /** The repository's packages.checksum (empty when it has none). */
  index(): Promise<ChecksumMap> {
    return readChecksumFile(join(this.dir, CHECKSUM_FILE));
  }

  /** Builds a package from its source folder into the repository and records its md5. */
  async upload(ref: PackageRef, source: PackageSource): Promise<UploadResult> {
    const built = await tarPackage(ref, { ...source, destDir: this.dir, compressor: this.#compressor });
    return this.#record(built.fileName, built.md5);
  }

  /** Copies an existing package file into the repository as it is (autotest's `--file`), after checking it. */
  async addFile(path: string): Promise<UploadResult> {
    const fileName = basename(path);
    if (!parseTarballName(fileName)) {
      throw new PackageError(
        'ERR_PACKAGE_NAME',
        `"${fileName}" is not a package file name; expected TYPE-NAME.tar.bz2`,
      );
    }
    const md5 = await md5File(path);
    await assertTarballSafe(path, fileName, md5);
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `.${fileName}.${process.pid}.tmp`);
    await copyFile(path, temp);
    await rename(temp, join(this.dir, fileName));
    return this.#record(fileName, md5);
  }

  /** Deletes packages and their index entries; returns the file names that were there. */
  async remove(refs: readonly PackageRef[]): Promise<string[]> {
    return this.#serial(async () => {
      const index = await this.index();
      const removed: string[] = [];
      for (const ref of refs) {
        const fileName = tarballName(ref);
        const existed = index.delete(fileName);
        await rm(join(this.dir, fileName), { force: true });
        if (existed) removed.push(fileName);
        this.#logger.info({ package: fileName }, 'package removed');
      }
      await writeChecksumFile(join(this.dir, CHECKSUM_FILE), index);
      return removed;
    });
  }

  /** Rewrites packages.checksum from the package files present (autotest's `md5sum * > packages.checksum`). */
  async reindex(): Promise<ChecksumMap> {
    return this.#serial(async () => {
      const index: ChecksumMap = new Map();
      for (const name of (await readdir(this.dir)).sort()) {
        if (parseTarballName(name)) index.set(name, await md5File(join(this.dir, name)));
      }
      await writeChecksumFile(join(this.dir, CHECKSUM_FILE), index);
      return index;
    });
  }

  #record(fileName: string, md5: string): Promise<UploadResult> {
    return this.#serial(async () => {
      const index = await this.index();
      const changed = index.get(fileName) !== md5;
      index.set(fileName, md5);
      await writeChecksumFile(join(this.dir, CHECKSUM_FILE), index);
      this.#logger.info(
        { package: fileName, md5, changed },
        changed ? 'package uploaded' : 'package unchanged',
      );
      return { fileName, md5, changed };
    });
  }

  /** Index updates run one at a time so concurrent uploads never lose an entry. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined); // the caller sees the error; the queue goes on
    return next;
  }
}
