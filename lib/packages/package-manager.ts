/**
 * Installs packages on one device, fetching only what changed. One SSH round trip reads the device's
 * packages.checksum, every install folder's marker and every device repository's index; a package whose md5 matches
 * all three is left alone. Others are fetched from the repositories in order (device repositories first as listed,
 * then the server pushing over SSH, building from source when no repository has the package), checked (md5, safe
 * paths) and untarred so that an interrupted install never looks complete.
 */
import { posix } from 'node:path';
import { silentLogger, type Logger } from '../logging.js';
import { DeviceSession, type FetchFailure, type InstallSpec } from './device-session.js';
import type { DeviceProbe } from './device-scripts.js';
import { PackageError } from './package-error.js';
import { installDirFor, tarballName, type PackageRef } from './package-name.js';
import type { CommandRunner } from './command-runner.js';
import type { PackageBuilder } from './package-builder.js';
import type { PackageRepository } from './repository.js';
import { SshPushRepository, type PackageSources } from './ssh-push-repository.js';

export interface PackageManagerOptions {
  /** Runs commands on the device: an `SSHHost`, or `LocalRunner`. */
  runner: CommandRunner;
  /** The client's root on the device. @default '/usr/local/autotest' */
  autodir?: string;
  /** Repositories in order of preference. */
  repositories?: readonly PackageRepository[];
  /** Source folders: a package no repository has is built from them and pushed over SSH (tried last). */
  sources?: PackageSources;
  /** Shared build cache. @default the process-wide builder */
  builder?: PackageBuilder;
  /** Seconds a device command may take (autotest's 600). @default 600 */
  commandTimeoutSec?: number;
  logger?: Logger;
}

export interface InstallOptions {
  /** Untar over the existing install folder instead of replacing it. Always true for the client. @default false */
  preserveInstallDir?: boolean;
}

export interface InstallResult {
  ref: PackageRef;
  fileName: string;
  installDir: string;
  md5: string | undefined;
  /** `installed`: fetched and untarred now; `up-to-date`: the device already had it and nothing was transferred. */
  action: 'installed' | 'up-to-date';
  /** Where it came from, when installed. */
  repository?: string;
}

export class PackageManager {
  readonly autodir: string;
  readonly packagesDir: string;
  readonly repositories: readonly PackageRepository[];
  readonly #session: DeviceSession;
  readonly #logger: Logger;

  constructor(options: PackageManagerOptions) {
    this.autodir = options.autodir ?? '/usr/local/autotest';
    if (!posix.isAbsolute(this.autodir)) {
      throw new PackageError(
        'ERR_PACKAGE_INVALID_OPTION',
        `autodir must be an absolute path on the device, got "${this.autodir}"`,
      );
    }
    this.packagesDir = posix.join(this.autodir, 'packages');
    const repositories = [...(options.repositories ?? [])];
    if (options.sources)
      repositories.push(new SshPushRepository({ sources: options.sources, builder: options.builder }));
    this.repositories = repositories;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'packages' });
    this.#session = new DeviceSession(
      options.runner,
      this.packagesDir,
      options.commandTimeoutSec ?? 600,
      this.#logger,
    );
  }

  /** Installs the packages in order; one device round trip when nothing changed. */
  async install(
    refs: PackageRef | readonly PackageRef[],
    options: InstallOptions = {},
  ): Promise<InstallResult[]> {
    const specs: InstallSpec[] = (Array.isArray(refs) ? refs : [refs]).map((ref: PackageRef) => ({
      ref,
      fileName: tarballName(ref),
      installDir: installDirFor(this.autodir, ref),
      preserve: ref.type === 'client' || options.preserveInstallDir === true,
    }));
    if (this.repositories.length === 0) {
      throw new PackageError(
        'ERR_PACKAGE_NOT_FOUND',
        'No package repository configured: give repositories or source folders',
        {
          packageName: specs[0]?.fileName,
        },
      );
    }
    const probe = await this.#session.probe(specs, this.repositories);
    const results: InstallResult[] = [];
    for (const [i, spec] of specs.entries()) {
      const wanted = await this.#wanted(spec, probe);
      const installed = probe.markers[i];
      if (wanted && probe.device.get(spec.fileName) === wanted && installed === wanted) {
        this.#logger.debug(
          { package: spec.fileName, md5: wanted, installDir: spec.installDir },
          'up to date, not reinstalled',
        );
        results.push({ ...resultOf(spec), md5: wanted, action: 'up-to-date' });
        continue;
      }
      results.push(await this.#installOne(spec, probe, wanted));
    }
    return results;
  }

  /** The md5 the first repository that knows the package offers. */
  async #wanted(spec: InstallSpec, probe: DeviceProbe): Promise<string | undefined> {
    for (const [i, repository] of this.repositories.entries()) {
      if (repository.kind === 'device') {
        const index = probe.indexes.get(i);
        const md5 = index?.state === 'ok' ? index.checksums.get(spec.fileName) : undefined;
        if (md5) return md5;
      } else {
        const md5 = await repository.checksumOf(spec.ref);
        if (md5) return md5;
      }
    }
    return undefined;
  }

  async #installOne(
    spec: InstallSpec,
    probe: DeviceProbe,
    wanted: string | undefined,
  ): Promise<InstallResult> {
    const failures: FetchFailure[] = [];
    for (const [i, repository] of this.repositories.entries()) {
      const installed =
        repository.kind === 'device'
          ? await this.#session.fetchOnDevice(spec, repository, probe.indexes.get(i), wanted, failures)
          : await this.#session.pushFromServer(spec, repository, failures);
      if (installed) {
        this.#logger.info(
          { package: spec.fileName, md5: installed, repository: repository.description },
          'package installed',
        );
        return { ...resultOf(spec), md5: installed, action: 'installed', repository: repository.description };
      }
    }
    const tried = this.repositories.map((r) => r.description);
    const summary = failures
      .map((f) => `${f.repository}: ${f.problem}${f.detail ? ` (${f.detail})` : ''}`)
      .join('; ');
    if (failures.some((f) => f.problem === 'corrupt')) {
      throw new PackageError(
        'ERR_PACKAGE_CORRUPT',
        `Every copy of ${spec.fileName} found is corrupt [${summary}]; rebuild and upload it again with "packager upload"`,
        { packageName: spec.fileName, repositories: tried },
      );
    }
    throw new PackageError(
      'ERR_PACKAGE_NOT_FOUND',
      `${spec.fileName} could not be fetched from any of the repositories [${summary}]; ` +
        'upload it with "packager upload" or give its source folder so it is built on the fly',
      { packageName: spec.fileName, repositories: tried },
    );
  }
}

function resultOf(spec: InstallSpec): Pick<InstallResult, 'ref' | 'fileName' | 'installDir'> {
  return { ref: spec.ref, fileName: spec.fileName, installDir: spec.installDir };
}
