/**
 * The one error class of the packaging subsystem. Match on `code`:
 * - `ERR_PACKAGE_NOT_FOUND`: no repository has the package and it cannot be built from a source folder.
 * - `ERR_PACKAGE_CORRUPT`: every copy found has an md5 that differs from its repository's packages.checksum entry,
 *   or is not a readable .tar.bz2.
 * - `ERR_PACKAGE_UNSAFE_PATH`: an archive entry would land outside its install folder.
 * - `ERR_PACKAGE_INSTALL`: fetching or untarring on the device failed (a command failed, a tool is missing).
 * - `ERR_PACKAGE_BUILD`: building a package from a source folder failed.
 * - `ERR_PACKAGE_NAME`: a package name or type is not valid.
 * - `ERR_PACKAGE_INVALID_OPTION`: an option given to a repository, manager or builder is not valid.
 */
import { AutotestError, type AutotestErrorOptions } from '../errors.js';

export type PackageErrorCode =
  | 'ERR_PACKAGE_NOT_FOUND'
  | 'ERR_PACKAGE_CORRUPT'
  | 'ERR_PACKAGE_UNSAFE_PATH'
  | 'ERR_PACKAGE_INSTALL'
  | 'ERR_PACKAGE_BUILD'
  | 'ERR_PACKAGE_NAME'
  | 'ERR_PACKAGE_INVALID_OPTION';

export interface PackageErrorOptions extends AutotestErrorOptions {
  /** The package file name, such as `test-sleeptest.tar.bz2`. */
  packageName?: string;
  /** The repositories involved, as their descriptions (URL, folder, `autoserv://`). */
  repositories?: readonly string[];
}

export class PackageError extends AutotestError {
  declare readonly code: PackageErrorCode;
  readonly packageName: string | undefined;
  readonly repositories: readonly string[];

  constructor(code: PackageErrorCode, message: string, options: PackageErrorOptions = {}) {
    super(code, message, options);
    this.packageName = options.packageName;
    this.repositories = options.repositories ?? [];
  }
}
