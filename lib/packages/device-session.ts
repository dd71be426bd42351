/**
 * The device side of one PackageManager: runs the probe, fetch and untar scripts on the device through its
 * CommandRunner and turns their output into answers. Kept apart from the manager, which only decides what to
 * install from where.
 */
import { posix } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../logging.js';
import { isAutotestError } from '../errors.js';
import { isMd5, md5File } from './checksum-file.js';
import { shellQuote, type CommandRunner, type RunResult } from './command-runner.js';
import {
  extractScript,
  fetchScript,
  newNonce,
  parseProbe,
  parseScriptOutput,
  probeScript,
  type DeviceProbe,
} from './device-scripts.js';
import { PackageError } from './package-error.js';
import type { PackageRef } from './package-name.js';
import {
  FETCH_NOT_FOUND,
  type DeviceRepository,
  type PackageRepository,
  type RepositoryIndex,
  type ServerRepository,
} from './repository.js';
import { assertListingSafe, assertTarballSafe, isKnownSafe } from './tarball-safety.js';

/** One package to install: where its file and install folder are, and whether to untar over the old folder. */
export interface InstallSpec {
  ref: PackageRef;
  fileName: string;
  installDir: string;
  preserve: boolean;
}

/** Why one repository did not provide a package. */
export interface FetchFailure {
  repository: string;
  problem: 'not found' | 'unreachable' | 'corrupt';
  detail?: string;
}

export class DeviceSession {
  constructor(
    readonly runner: CommandRunner,
    readonly packagesDir: string,
    readonly timeoutSec: number,
    readonly logger: Logger,
  ) {}

  /** One round trip: the device's packages.checksum, install markers and device repositories' indexes. */
  async probe(
    specs: readonly InstallSpec[],
    repositories: readonly PackageRepository[],
  ): Promise<DeviceProbe> {
    const nonce = newNonce();
    const device = repositories.flatMap((r, i) =>
      r.kind === 'device' ? [{ repository: r, position: i }] : [],
    );
    const script =
      `mkdir -p ${shellQuote(this.packagesDir)} 2>/dev/null\n` +
      probeScript(
        nonce,
        this.packagesDir,
        specs.map((s) => s.installDir),
        device.map((d) => d.repository.indexCommand()),
      );
    const result = await this.run(script, 'read the installed packages');
    const probe = parseProbe(
      result.stdout,
      nonce,
      specs.length,
      device.map((d) => d.position),
    );
    if (!probe) throw this.installError('read the installed packages', result);
    for (const [position, index] of probe.indexes) {
      if (index.state === 'unreachable')
        this.logger.warn({ repository: repositories[position]!.description }, 'repository unreachable');
    }
    return probe;
  }

  /** Fetches on the device and installs; returns the md5 installed, or undefined after recording why not. */
  async fetchOnDevice(
    spec: InstallSpec,
    repository: DeviceRepository,
    index: RepositoryIndex | undefined,
    wanted: string | undefined,
    failures: FetchFailure[],
  ): Promise<string | undefined> {
    const where = repository.description;
    if (index?.state === 'unreachable')
      return void failures.push({ repository: where, problem: 'unreachable', detail: index.reason });
    const expected = index?.state === 'ok' ? index.checksums.get(spec.fileName) : undefined;
    if (index?.state === 'ok' && !expected)
      return void failures.push({ repository: where, problem: 'not found' });
    const nonce = newNonce();
    const script = fetchScript({
      nonce,
      packagesDir: this.packagesDir,
      fileName: spec.fileName,
      fetchCommand: (dest) => repository.fetchCommand(spec.fileName, dest),
      expectedMd5: expected,
      wantedMd5: wanted,
      list: !(expected && isKnownSafe(expected) && (!wanted || isKnownSafe(wanted))),
    });
    const result = await this.run(script, `fetch ${spec.fileName} from ${where}`);
    if (result.exitStatus !== 0)
      throw this.installError(`fetch ${spec.fileName} from ${where}`, result, spec);
    const sections = parseScriptOutput(result.stdout, nonce).sections;
    const failed = sections.find((s) => s.tag === 'fetch-failed');
    if (failed) {
      const notFound = Number(failed.args[0]) === FETCH_NOT_FOUND;
      return void failures.push({
        repository: where,
        problem: notFound ? 'not found' : 'unreachable',
        detail: result.stderr.trim() || undefined,
      });
    }
    const md5 = sections.find((s) => s.tag === 'md5')?.args[0];
    // md5sum's answer goes back into a shell command: accept 32 hex digits only.
    if (!md5 || !isMd5(md5)) throw this.installError(`fetch ${spec.fileName} from ${where}`, result, spec);
    if (sections.some((s) => s.tag === 'corrupt')) {
      this.logger.warn(
        { package: spec.fileName, repository: where, md5, expected },
        'package md5 does not match the repository index',
      );
      return void failures.push({
        repository: where,
        problem: 'corrupt',
        detail: `md5 ${md5}, index says ${expected}`,
      });
    }
    const archive = posix.join(this.packagesDir, spec.fileName);
    let listing = sections.find((s) => s.tag === 'list');
    if (!listing && !isKnownSafe(md5)) {
      const listed = await this.run(
        `LC_ALL=C tar -tvjf ${shellQuote(archive)} 2>&1 || echo "${nonce} list-failed"`,
        `list ${spec.fileName}`,
      );
      listing = {
        tag: 'list',
        args: [],
        lines: listed.stdout.split('\n').filter((l) => !l.startsWith(nonce)),
      };
      if (listed.stdout.includes(`${nonce} list-failed`))
        sections.push({ tag: 'list-failed', args: [], lines: [] });
    }
    if (listing && sections.some((s) => s.tag === 'list-failed')) {
      await this.run(`rm -f ${shellQuote(archive)}`, `remove ${spec.fileName}`);
      return void failures.push({ repository: where, problem: 'corrupt', detail: 'not a readable .tar.bz2' });
    }
    if (listing) {
      try {
        assertListingSafe(listing.lines.join('\n'), spec.fileName, md5);
      } catch (error) {
        await this.run(`rm -f ${shellQuote(archive)}`, `remove ${spec.fileName}`);
        throw error;
      }
    }
    return (await this.extract(spec, archive, md5))
      ? md5
      : void failures.push({ repository: where, problem: 'corrupt' });
  }

  async pushFromServer(
    spec: InstallSpec,
    repository: ServerRepository,
    failures: FetchFailure[],
  ): Promise<string | undefined> {
    const where = repository.description;
    const located = await repository.locate(spec.ref);
    if (!located) return void failures.push({ repository: where, problem: 'not found' });
    const md5 = await md5File(located.path);
    if (located.expectedMd5 && md5 !== located.expectedMd5) {
      this.logger.warn(
        { package: spec.fileName, repository: where, md5 },
        'package md5 does not match the repository index',
      );
      return void failures.push({
        repository: where,
        problem: 'corrupt',
        detail: `md5 ${md5}, index says ${located.expectedMd5}`,
      });
    }
    try {
      await assertTarballSafe(located.path, spec.fileName, md5);
    } catch (error) {
      if (isAutotestError(error) && error.code === 'ERR_PACKAGE_CORRUPT') {
        return void failures.push({
          repository: where,
          problem: 'corrupt',
          detail: 'not a readable .tar.bz2',
        });
      }
      throw error;
    }
    const part = posix.join(this.packagesDir, `${spec.fileName}.part`);
    try {
      if (this.runner.sendFile) await this.runner.sendFile(located.path, part);
      else await this.run(`cat > ${shellQuote(part)}`, `send ${spec.fileName}`, await readFile(located.path));
    } catch (error) {
      throw new PackageError(
        'ERR_PACKAGE_INSTALL',
        `Sending ${spec.fileName} to ${part} on the device failed: ${String(error)}`,
        {
          cause: error,
          packageName: spec.fileName,
          repositories: [where],
        },
      );
    }
    return (await this.extract(spec, part, md5))
      ? md5
      : void failures.push({ repository: where, problem: 'corrupt', detail: 'damaged in transfer' });
  }

  /** Untars on the device; false when the archive there does not have the expected md5. */
  async extract(spec: InstallSpec, archivePath: string, md5: string): Promise<boolean> {
    const nonce = newNonce();
    const script = extractScript({
      nonce,
      packagesDir: this.packagesDir,
      fileName: spec.fileName,
      archivePath,
      installDir: spec.installDir,
      md5,
      preserve: spec.preserve,
    });
    const result = await this.run(script, `untar ${spec.fileName} into ${spec.installDir}`);
    const sections = parseScriptOutput(result.stdout, nonce).sections;
    if (sections.some((s) => s.tag === 'badsum')) return false;
    if (result.exitStatus !== 0 || !sections.some((s) => s.tag === 'installed')) {
      throw this.installError(`untar ${spec.fileName} into ${spec.installDir}`, result, spec);
    }
    return true;
  }

  async run(command: string, what: string, stdin?: Buffer): Promise<RunResult> {
    try {
      return await this.runner.run(command, { timeout: this.timeoutSec, ignoreStatus: true, stdin });
    } catch (error) {
      throw new PackageError('ERR_PACKAGE_INSTALL', `Could not ${what} on the device: ${String(error)}`, {
        cause: error,
      });
    }
  }

  installError(
    what: string,
    result: { stderr: string; exitStatus: number },
    spec?: InstallSpec,
  ): PackageError {
    return new PackageError(
      'ERR_PACKAGE_INSTALL',
      `Could not ${what} on the device (exit status ${result.exitStatus}): ${result.stderr.trim() || 'no error output'}. ` +
        'Check that sh, tar, bzip2 and md5sum are installed and the disk has room; the next install starts again cleanly',
      { packageName: spec?.fileName },
    );
  }
}
