/**
 * Packaging: autotest-compatible `.tar.bz2` packages, their packages.checksum, repositories, and the
 * `PackageManager` that installs only what changed on a device. See docs/packaging.md.
 */
import { HttpRepository, type HttpRepositoryOptions } from './http-repository.js';
import { LocalRepository } from './local-repository.js';
import type { PackageRepository } from './repository.js';
import { SshPushRepository } from './ssh-push-repository.js';

export { PackageError, type PackageErrorCode, type PackageErrorOptions } from './package-error.js';
export {
  CHECKSUM_FILE,
  CLIENT_PACKAGE_NAME,
  INSTALL_MARKER,
  PACKAGE_TYPES,
  installDirFor,
  packageRef,
  parsePackageSpec,
  parseTarballName,
  tarballName,
  type PackageRef,
  type PackageType,
} from './package-name.js';
export {
  formatChecksumFile,
  md5File,
  parseChecksumFile,
  readChecksumFile,
  writeChecksumFile,
  type ChecksumMap,
} from './checksum-file.js';
export {
  LocalRunner,
  shellQuote,
  type CommandRunner,
  type RunOptions,
  type RunResult,
} from './command-runner.js';
export {
  CLIENT_EXCLUDES,
  tarPackage,
  type BuiltPackage,
  type Compressor,
  type PackageSource,
  type TarPackageOptions,
} from './tar-package.js';
export { PackageBuilder, defaultPackageBuilder, type PackageBuilderOptions } from './package-builder.js';
export { assertTarballSafe, assertEntriesSafe, parseTarListing, type TarEntry } from './tarball-safety.js';
export type {
  DeviceRepository,
  LocatedPackage,
  PackageRepository,
  RepositoryIndex,
  ServerRepository,
} from './repository.js';
export { LocalRepository } from './local-repository.js';
export { HttpRepository, type HttpRepositoryOptions } from './http-repository.js';
export {
  SshPushRepository,
  sourcesFromTree,
  type PackageSources,
  type SourceTree,
  type SshPushRepositoryOptions,
} from './ssh-push-repository.js';
export {
  PackageManager,
  type InstallOptions,
  type InstallResult,
  type PackageManagerOptions,
} from './package-manager.js';
export { RepositoryFolder, type RepositoryFolderOptions, type UploadResult } from './repository-folder.js';
export { servePackages, type PackageServer, type PackageServerOptions } from './package-server.js';

/**
 * A repository from autotest's URL forms: `http(s)://…` is fetched by the device, `autoserv://` (optionally
 * `autoserv:///server/folder`) is pushed by the server, and a plain absolute path is a folder on the device.
 */
export function repositoryFromUrl(url: string, http: HttpRepositoryOptions = {}): PackageRepository {
  if (/^https?:\/\//.test(url)) return new HttpRepository(url, http);
  if (url.startsWith('autoserv://')) {
    const dir = url.slice('autoserv://'.length);
    return new SshPushRepository(dir ? { dir } : {});
  }
  return new LocalRepository(url);
}
