/**
 * `packager`: builds packages into a repository folder and keeps its packages.checksum (autotest's
 * utils/packager.py), removes packages, and serves a repository over HTTP for devices (`packager serve`).
 *
 *   packager upload -r /srv/packages --all
 *   packager upload -r /srv/packages -t desktopui_UrlFetch,login_LoginSuccess -d pyauto_dep
 *   packager remove -r /srv/packages test:login_LoginSuccess
 *   packager serve --dir /srv/packages --port 8080
 */
import { Command, InvalidArgumentError } from 'commander';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { isAutotestError } from '../../lib/errors.js';
import { buildDeviceTest, clientPackageDir } from '../device-build.js';
import {
  PackageError,
  RepositoryFolder,
  packageRef,
  parsePackageSpec,
  servePackages,
  type Compressor,
  type PackageRef,
  type PackageSource,
} from '../../lib/packages/index.js';

interface UploadFlags {
  repository: string;
  client?: boolean;
  test?: string[];
  dep?: string[];
  profiler?: string[];
  all?: boolean;
  file?: string[];
  clientDir: string;
  testsDir: string;
  depsDir: string;
  profilersDir: string;
  exclude?: string[];
  compressor: Compressor;
  verbose?: boolean;
}

const commaList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value.split(',').filter(Boolean),
];

function compressorOption(value: string): Compressor {
  if (value === 'auto' || value === 'lbzip2' || value === 'bzip2') return value;
  throw new InvalidArgumentError(`expected auto, lbzip2 or bzip2, got "${value}"`);
}

function portOption(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`expected a port 0-65535, got "${value}"`);
  return port;
}

function loggerFor(verbose: boolean | undefined): pino.Logger {
  return pino({ level: verbose ? 'debug' : 'warn' }, pino.destination(2));
}

async function subfolders(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  const folders: string[] = [];
  for (const name of names.sort())
    if ((await stat(join(dir, name))).isDirectory() && !name.startsWith('.')) folders.push(name);
  return folders;
}

/** The packages an upload asks for, each with its source folder. */
async function plannedUploads(flags: UploadFlags): Promise<{ ref: PackageRef; source: PackageSource }[]> {
  const exclude = flags.exclude ?? [];
  const kinds = [
    { type: 'test', names: flags.test, dir: flags.testsDir },
    { type: 'dep', names: flags.dep, dir: flags.depsDir },
    { type: 'profiler', names: flags.profiler, dir: flags.profilersDir },
  ] as const;
  const planned: { ref: PackageRef; source: PackageSource }[] = [];
  for (const kind of kinds) {
    const names = flags.all ? await subfolders(kind.dir) : (kind.names ?? []);
    for (const name of names) {
      const dir = join(kind.dir, name);
      if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
        throw new PackageError(
          'ERR_PACKAGE_NOT_FOUND',
          `${kind.type} "${name}" not found: no folder ${dir}; check the name or --${kind.type}s-dir`,
        );
      }
      // Tests run on devices compiled: TypeScript becomes JavaScript there (see server/device-build.ts).
      const source = kind.type === 'test' ? await buildDeviceTest(name, dir) : dir;
      planned.push({ ref: packageRef(kind.type, name), source: { dir: source, exclude } });
    }
  }
  if (flags.client || flags.all)
    planned.unshift({ ref: packageRef('client'), source: { dir: flags.clientDir, exclude } });
  return planned;
}

async function upload(flags: UploadFlags): Promise<void> {
  const folder = new RepositoryFolder(resolve(flags.repository), {
    compressor: flags.compressor,
    logger: loggerFor(flags.verbose),
  });
  const planned = await plannedUploads(flags);
  if (planned.length === 0 && !flags.file?.length) {
    throw new PackageError(
      'ERR_PACKAGE_INVALID_OPTION',
      'Nothing to upload: give --client, --test, --dep, --profiler, --file or --all',
    );
  }
  // Builds run in parallel (tar and bzip2 are separate processes); the index is updated one entry at a time.
  const results = await Promise.all([
    ...planned.map(({ ref, source }) => folder.upload(ref, source)),
    ...(flags.file ?? []).map((file) => folder.addFile(resolve(file))),
  ]);
  for (const result of results)
    process.stdout.write(`${result.changed ? 'uploaded' : 'unchanged'} ${result.fileName} ${result.md5}\n`);
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('packager')
    .description(
      'Build, upload, remove and serve autotest packages (.tar.bz2 with a packages.checksum index)',
    )
    .showHelpAfterError();

  program
    .command('upload')
    .description(
      'build packages from their source folders into a repository folder and update its packages.checksum',
    )
    .requiredOption('-r, --repository <dir>', 'repository folder to write into')
    .option('-c, --client', 'package the client (client-autotest.tar.bz2, without tests, deps and profilers)')
    .option('-t, --test <names>', 'test(s) to package, comma-separated', commaList)
    .option('-d, --dep <names>', 'dep(s) to package, comma-separated', commaList)
    .option('-p, --profiler <names>', 'profiler(s) to package, comma-separated', commaList)
    .option('-a, --all', 'package the client and every test, dep and profiler found')
    .option('-f, --file <files...>', 'upload existing package files as they are')
    .option('--client-dir <dir>', 'the client bundle (npm run build makes it)', clientPackageDir)
    .option('--tests-dir <dir>', 'folder with one folder per test', 'site_tests')
    .option('--deps-dir <dir>', 'folder with one folder per dep', 'deps')
    .option('--profilers-dir <dir>', 'folder with one folder per profiler', 'profilers')
    .option('-x, --exclude <patterns...>', 'GNU tar --exclude patterns applied to every package')
    .option('--compressor <name>', 'auto (lbzip2 when installed), lbzip2 or bzip2', compressorOption, 'auto')
    .option('-v, --verbose', 'log what is built')
    .action((flags: UploadFlags) => upload(flags));

  program
    .command('remove')
    .description(
      'delete packages (TYPE:NAME or file names) from a repository folder and its packages.checksum',
    )
    .requiredOption('-r, --repository <dir>', 'repository folder')
    .argument('<packages...>', 'packages such as test:sleeptest, dep-pyauto_dep.tar.bz2 or client')
    .action(async (specs: string[], flags: { repository: string }) => {
      const removed = await new RepositoryFolder(resolve(flags.repository)).remove(
        specs.map(parsePackageSpec),
      );
      for (const name of removed) process.stdout.write(`removed ${name}\n`);
    });

  program
    .command('checksum')
    .description('rewrite packages.checksum from the package files in a repository folder')
    .requiredOption('-r, --repository <dir>', 'repository folder')
    .action(async (flags: { repository: string }) => {
      const index = await new RepositoryFolder(resolve(flags.repository)).reindex();
      for (const [name, md5] of index) process.stdout.write(`${md5} ${name}\n`);
    });

  program
    .command('serve')
    .description('serve a repository folder over HTTP for devices (a small devserver)')
    .requiredOption('--dir <dir>', 'repository folder')
    .option('--port <port>', 'port (0 picks a free one)', portOption, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('-v, --verbose', 'log every request problem')
    .action(async (flags: { dir: string; port: number; host: string; verbose?: boolean }) => {
      const server = await servePackages({
        dir: resolve(flags.dir),
        port: flags.port,
        host: flags.host,
        logger: loggerFor(flags.verbose),
      });
      process.stdout.write(`serving ${resolve(flags.dir)} at ${server.url}\n`);
      const stop = (): void => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  const code = isAutotestError(error) ? ` [${error.code}]` : '';
  process.stderr.write(`packager: ${error instanceof Error ? error.message : String(error)}${code}\n`);
  process.exit(1);
});
