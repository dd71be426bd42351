/**
 * Packages the server pushes to the device over SSH (autotest's autoserv fetcher, `autoserv://`): taken from a
 * folder on the server when it holds them, else built on the fly from a source folder, as autoserv's
 * `_send_tarball` does. It is the last resort after the repositories the device fetches from.
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { md5File, readChecksumFile } from './checksum-file.js';
import { CHECKSUM_FILE, tarballName, type PackageRef } from './package-name.js';
import { defaultPackageBuilder, type PackageBuilder } from './package-builder.js';
import type { PackageSource } from './tar-package.js';
import type { LocatedPackage, ServerRepository } from './repository.js';

/** Where the source of a package lives on the server; undefined when it cannot be built. */
export type PackageSources = (ref: PackageRef) => PackageSource | undefined;

export interface SourceTree {
  /** The client bundle (for example `dist/client`). */
  clientDir?: string;
  /** Folder holding one folder per test (for example `site_tests`). */
  testsDir?: string;
  depsDir?: string;
  profilersDir?: string;
}

/** Sources laid out as autotest's tree: `<testsDir>/NAME`, `<depsDir>/NAME`, `<profilersDir>/NAME`. */
export function sourcesFromTree(tree: SourceTree): PackageSources {
  return (ref) => {
    const base = {
      client: tree.clientDir,
      test: tree.testsDir,
      dep: tree.depsDir,
      profiler: tree.profilersDir,
    }[ref.type];
    if (!base) return undefined;
    return { dir: ref.type === 'client' ? base : join(base, ref.name) };
  };
}

export interface SshPushRepositoryOptions {
  /** A repository folder on the server (as `packager upload` writes it). */
  dir?: string;
  /** Sources to build packages the folder does not hold. */
  sources?: PackageSources;
  /** @default the process-wide builder, so concurrent installs build each package once */
  builder?: PackageBuilder;
}

export class SshPushRepository implements ServerRepository {
  readonly kind = 'server';
  readonly description: string;
  readonly #dir: string | undefined;
  readonly #sources: PackageSources | undefined;
  readonly #builder: PackageBuilder;

  constructor(options: SshPushRepositoryOptions = {}) {
    this.#dir = options.dir;
    this.#sources = options.sources;
    this.#builder = options.builder ?? defaultPackageBuilder();
    this.description = this.#dir ? `autoserv://${this.#dir}` : 'autoserv://';
  }

  get canBuild(): boolean {
    return this.#sources !== undefined;
  }

  async checksumOf(ref: PackageRef): Promise<string | undefined> {
    const located = await this.locate(ref);
    if (!located) return undefined;
    return located.expectedMd5 ?? (await md5File(located.path));
  }

  async locate(ref: PackageRef): Promise<LocatedPackage | undefined> {
    return (await this.#fromFolder(ref)) ?? (await this.#build(ref));
  }

  async #fromFolder(ref: PackageRef): Promise<LocatedPackage | undefined> {
    if (!this.#dir) return undefined;
    const path = join(this.#dir, tarballName(ref));
    if (!(await stat(path).catch(() => undefined))?.isFile()) return undefined;
    const index = await readChecksumFile(join(this.#dir, CHECKSUM_FILE));
    return { path, expectedMd5: index.get(tarballName(ref)) };
  }

  async #build(ref: PackageRef): Promise<LocatedPackage | undefined> {
    const source = this.#sources?.(ref);
    if (!source) return undefined;
    if (!(await stat(source.dir).catch(() => undefined))?.isDirectory()) return undefined;
    const built = await this.#builder.build(ref, source);
    return { path: built.path, expectedMd5: built.md5 };
  }
}
