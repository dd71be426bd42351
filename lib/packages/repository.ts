/**
 * Repository shapes. A device repository is read and fetched by commands on the device (a folder there, an HTTP
 * server it reaches), so package bytes never pass through the server. A server repository holds packages on the
 * server, which pushes them over SSH (autotest's autoserv fetcher).
 */
import type { ChecksumMap } from './checksum-file.js';
import type { PackageRef } from './package-name.js';

/** What a repository's packages.checksum said: its entries, no index at all, or the repository was unreachable. */
export type RepositoryIndex =
  { state: 'ok'; checksums: ChecksumMap } | { state: 'missing' } | { state: 'unreachable'; reason: string };

/** Exit statuses a device repository's commands end with. */
export const FETCH_NOT_FOUND = 44;
export const FETCH_UNREACHABLE = 45;

export interface DeviceRepository {
  readonly kind: 'device';
  /** A URL or folder, for messages and logs. */
  readonly description: string;
  /**
   * A sh command that prints the repository's packages.checksum on stdout and exits 0, `FETCH_NOT_FOUND` when there
   * is none, or `FETCH_UNREACHABLE` when the repository cannot be reached.
   */
  indexCommand(): string;
  /** A sh command that writes `fileName` to `destPath` with the same exit statuses. */
  fetchCommand(fileName: string, destPath: string): string;
}

export interface LocatedPackage {
  /** Path of the archive on the server. */
  path: string;
  /** md5 the repository's index lists for it; undefined when it has no index entry. */
  expectedMd5: string | undefined;
}

export interface ServerRepository {
  readonly kind: 'server';
  readonly description: string;
  /** The md5 this repository would provide for the package, building it if needed; undefined when it has none. */
  checksumOf(ref: PackageRef): Promise<string | undefined>;
  /** The archive on the server; undefined when this repository has no such package. */
  locate(ref: PackageRef): Promise<LocatedPackage | undefined>;
}

export type PackageRepository = DeviceRepository | ServerRepository;
