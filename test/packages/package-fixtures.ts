// Shared fixtures for the packaging suites: a source tree, a recording runner, a throwaway folder.
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import pino from 'pino';
import {
  LocalRunner,
  RepositoryFolder,
  packageRef,
  servePackages,
  type CommandRunner,
  type PackageRef,
  type PackageServer,
  type RunOptions,
  type RunResult,
} from '../../lib/packages/index.js';
import type { Logger } from '../../lib/logging.js';

/** A temporary folder removed when the current test ends. */
export async function tempDir(prefix = 'pkg-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** A source tree as the server holds it: client bundle, two tests, a dep and a profiler. */
export async function sourceTree(
  root: string,
): Promise<{ clientDir: string; testsDir: string; depsDir: string; profilersDir: string }> {
  await writeFiles(root, {
    'client/bin/autotest.js': 'console.log("client")\n',
    'client/lib/job.js': 'export const job = 1;\n',
    'client/tests/stray.txt': 'must not be packaged with the client\n',
    'site_tests/alpha/control.ts': 'export default 1;\n',
    'site_tests/alpha/alpha.ts': 'export class Alpha {}\n',
    'site_tests/beta/control.ts': 'export default 2;\n',
    'site_tests/beta/data/input.txt': 'beta data\n',
    'deps/tool/bin/tool.sh': '#!/bin/sh\necho tool\n',
    'profilers/perf/perf.ts': 'export const perf = true;\n',
  });
  return {
    clientDir: join(root, 'client'),
    testsDir: join(root, 'site_tests'),
    depsDir: join(root, 'deps'),
    profilersDir: join(root, 'profilers'),
  };
}

/** Runs commands locally and records them, so tests can count device round trips and transfers. */
export class RecordingRunner implements CommandRunner {
  readonly commands: string[] = [];
  readonly sent: string[] = [];
  readonly #inner = new LocalRunner();

  /** @param prefix prepended to every command (for example to put fake tools first on PATH) */
  constructor(private readonly prefix = '') {}

  run(command: string, options?: RunOptions): Promise<RunResult> {
    this.commands.push(command);
    return this.#inner.run(this.prefix + command, options);
  }

  sendFile(local: string, remote: string): Promise<void> {
    this.sent.push(remote);
    return this.#inner.sendFile(local, remote);
  }

  reset(): void {
    this.commands.length = 0;
    this.sent.length = 0;
  }
}

/** The packages of `sourceTree`, as a device needs them. */
export const ALL_PACKAGES: PackageRef[] = [
  packageRef('client'),
  packageRef('test', 'alpha'),
  packageRef('test', 'beta'),
  packageRef('dep', 'tool'),
];

/** A source tree and a repository folder holding its packages, as `packager upload` makes it. */
export async function populatedRepository(root: string) {
  const tree = await sourceTree(join(root, 'src'));
  const repoDir = join(root, 'repo');
  const folder = new RepositoryFolder(repoDir);
  await folder.upload(packageRef('client'), { dir: tree.clientDir });
  for (const name of ['alpha', 'beta'])
    await folder.upload(packageRef('test', name), { dir: join(tree.testsDir, name) });
  await folder.upload(packageRef('dep', 'tool'), { dir: join(tree.depsDir, 'tool') });
  return { tree, repoDir, folder };
}

/** Serves a folder on 127.0.0.1, closed when the test ends. */
export async function serve(dir: string): Promise<PackageServer> {
  const server = await servePackages({ dir });
  onTestFinished(() => server.close());
  return server;
}

/** A URL on a port nothing listens on any more (connection refused): a dead repository. */
export async function deadUrl(): Promise<string> {
  const server = await servePackages({ dir: tmpdir() });
  await server.close();
  return server.url;
}

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A debug-level logger whose records land in an array. */
export function captureLogs(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) },
  );
  return { logger, records };
}

/** Short retry settings so a dead repository is given up on quickly. */
export const fast = { retries: 1, retryDelaySec: 1, connectTimeoutSec: 5 };

export const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );
