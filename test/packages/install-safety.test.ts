import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmod, cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HttpRepository,
  LocalRunner,
  PackageManager,
  RepositoryFolder,
  SshPushRepository,
  packageRef,
  type CommandRunner,
} from '../../lib/packages/index.js';
import { hostileTarball } from './hostile-tarballs.js';
import {
  ALL_PACKAGES,
  RecordingRunner,
  exists,
  fast,
  captureLogs,
  populatedRepository,
  serve,
  tempDir,
} from './package-fixtures.js';


/** Flips bytes in the middle of a package, leaving packages.checksum as it was. */
async function corrupt(path: string): Promise<void> {
  const bytes = await readFile(path);
  for (let i = 100; i < 110; i++) bytes[i] = bytes[i]! ^ 0xff;
  await writeFile(path, bytes);
}

/**
 * A runner whose `tar -x` is the real tar followed by SIGKILL to the shell that ran it: an install stopped after
 * untarring, before anything else (the marker, the swap, the checksum file) happens.
 */
async function interruptingRunner(root: string): Promise<RecordingRunner> {
  const bin = join(root, 'fake-bin');
  const realTar = (await execa('sh', ['-c', 'command -v tar'])).stdout.trim();
  await execa('mkdir', ['-p', bin]);
  await writeFile(
    join(bin, 'tar'),
    `#!/bin/sh\ncase "$*" in *-xjf*) ${realTar} "$@"; kill -KILL $PPID;; *) exec ${realTar} "$@";; esac\n`,
  );
  await chmod(join(bin, 'tar'), 0o755);
  return new RecordingRunner(`PATH='${bin}':$PATH; export PATH\n`);
}

describe('installing safely', () => {
  it('fetches a corrupted package again from the next repository, and names every bad copy', async () => {
    const root = await tempDir();
    const { repoDir } = await populatedRepository(root);
    const badDir = join(root, 'bad-repo');
    await cp(repoDir, badDir, { recursive: true });
    await corrupt(join(badDir, 'test-alpha.tar.bz2'));
    const bad = await serve(badDir);
    const good = await serve(repoDir);
    const { logger, records } = captureLogs();
    const autodir = join(root, 'device');
    const manager = new PackageManager({
      runner: new RecordingRunner(),
      autodir,
      repositories: [new HttpRepository(bad.url, fast), new HttpRepository(good.url, fast)],
      logger,
    });
    expect((await manager.install(packageRef('test', 'alpha')))[0]).toMatchObject({
      action: 'installed',
      repository: good.url,
    });
    expect(
      records.some(
        (r) => r.msg === 'package md5 does not match the repository index' && r.repository === bad.url,
      ),
    ).toBe(true);

    // Every copy bad: the server-side copy too.
    const badServerDir = join(root, 'bad-server-repo');
    await cp(badDir, badServerDir, { recursive: true });
    const onlyBad = new PackageManager({
      runner: new RecordingRunner(),
      autodir: join(root, 'device2'),
      repositories: [new HttpRepository(bad.url, fast), new SshPushRepository({ dir: badServerDir })],
    });
    const error = await onlyBad.install(packageRef('test', 'alpha')).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_PACKAGE_CORRUPT',
      packageName: 'test-alpha.tar.bz2',
      repositories: [bad.url, `autoserv://${badServerDir}`],
    });
    expect((error as Error).message).toMatch(
      /test-alpha\.tar\.bz2.*http:\/\/127\.0\.0\.1:\d+: corrupt.*autoserv:\/\/.*: corrupt/,
    );
    expect(await exists(join(root, 'device2', 'tests', 'alpha'))).toBe(false);
    expect(await exists(join(root, 'device2', 'packages', 'test-alpha.tar.bz2'))).toBe(false);
  });

  it('refuses a hostile tarball fetched by the device, and one on the server before sending it', async () => {
    const root = await tempDir();
    const { repoDir } = await populatedRepository(root);
    const outside = join(root, 'outside');
    await hostileTarball('symlink-out', root, repoDir, 'test-evil.tar.bz2', outside);
    await new RepositoryFolder(repoDir).reindex();
    const server = await serve(repoDir);
    const autodir = join(root, 'device');
    const viaHttp = new PackageManager({
      runner: new RecordingRunner(),
      autodir,
      repositories: [new HttpRepository(server.url, fast)],
    });
    const error = await viaHttp.install(packageRef('test', 'evil')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_PACKAGE_UNSAFE_PATH', packageName: 'test-evil.tar.bz2' });
    expect((error as Error).message).toContain('"escape" points out of the install folder');
    expect(await exists(join(autodir, 'tests', 'evil'))).toBe(false);
    expect(await exists(join(autodir, 'packages', 'test-evil.tar.bz2'))).toBe(false);

    await hostileTarball('absolute', root, join(root, 'server-repo'), 'test-abs.tar.bz2', outside);
    const runner = new RecordingRunner();
    const viaPush = new PackageManager({
      runner,
      autodir,
      repositories: [new SshPushRepository({ dir: join(root, 'server-repo') })],
    });
    await expect(viaPush.install(packageRef('test', 'abs'))).rejects.toMatchObject({
      code: 'ERR_PACKAGE_UNSAFE_PATH',
    });
    expect(runner.sent).toEqual([]);
    expect(await exists(outside)).toBe(false);
  });

  it('never leaves an interrupted install looking installed, and the next run completes it', async () => {
    const root = await tempDir();
    const { tree, repoDir, folder } = await populatedRepository(root);
    const server = await serve(repoDir);
    const autodir = join(root, 'device');
    const repositories = [new HttpRepository(server.url, fast)];
    const interrupted = new PackageManager({ runner: await interruptingRunner(root), autodir, repositories });
    const normal = new PackageManager({ runner: new RecordingRunner(), autodir, repositories });

    // A first install stopped after untarring: no install folder, no marker, no checksum entry.
    const killed = { code: 'ERR_PACKAGE_INSTALL', message: expect.stringContaining('exit status 137') };
    await expect(interrupted.install(packageRef('test', 'alpha'))).rejects.toMatchObject(killed);
    expect(await exists(join(autodir, 'tests', 'alpha'))).toBe(false);
    // The client root is untarred in place (it holds packages/ and tests/): its marker is removed first.
    await expect(interrupted.install(packageRef('client'))).rejects.toMatchObject(killed);
    expect(await exists(join(autodir, 'bin', 'autotest.js'))).toBe(true);
    expect(await exists(join(autodir, '.checksum'))).toBe(false);

    const completed = await normal.install(ALL_PACKAGES);
    expect(completed.map((r) => r.action)).toEqual(['installed', 'installed', 'installed', 'installed']);
    expect(await exists(join(autodir, 'tests', 'alpha.partial'))).toBe(false);

    // A reinstall stopped midway keeps the old version, still marked as the old version, so the next run updates it.
    await writeFile(join(tree.testsDir, 'alpha', 'alpha.ts'), 'export class Alpha2 {}\n');
    const updated = await folder.upload(packageRef('test', 'alpha'), { dir: join(tree.testsDir, 'alpha') });
    await expect(interrupted.install(packageRef('test', 'alpha'))).rejects.toMatchObject(killed);
    expect(await readFile(join(autodir, 'tests', 'alpha', 'alpha.ts'), 'utf8')).toBe(
      'export class Alpha {}\n',
    );
    expect((await readFile(join(autodir, 'tests', 'alpha', '.checksum'), 'utf8')).trim()).not.toBe(
      updated.md5,
    );
    const after = await normal.install(packageRef('test', 'alpha'));
    expect(after[0]).toMatchObject({ action: 'installed', md5: updated.md5 });
    expect(await readFile(join(autodir, 'tests', 'alpha', 'alpha.ts'), 'utf8')).toBe(
      'export class Alpha2 {}\n',
    );
  });

  it('pushes through stdin when the runner cannot send files', async () => {
    const root = await tempDir();
    const { repoDir } = await populatedRepository(root);
    const local = new LocalRunner();
    const runner: CommandRunner = { run: (command, options) => local.run(command, options) };
    const manager = new PackageManager({
      runner,
      autodir: join(root, 'device'),
      repositories: [new SshPushRepository({ dir: repoDir })],
    });
    expect((await manager.install(packageRef('dep', 'tool')))[0]).toMatchObject({
      action: 'installed',
      repository: `autoserv://${repoDir}`,
    });
    expect(await readFile(join(root, 'device', 'deps', 'tool', 'bin', 'tool.sh'), 'utf8')).toContain(
      'echo tool',
    );
  });
});
