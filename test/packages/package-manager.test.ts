import { describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HttpRepository,
  LocalRepository,
  PackageBuilder,
  PackageManager,
  packageRef,
  readChecksumFile,
  sourcesFromTree,
} from '../../lib/packages/index.js';
import {
  ALL_PACKAGES,
  RecordingRunner,
  exists,
  fast,
  captureLogs,
  deadUrl,
  populatedRepository,
  serve,
  tempDir,
} from './package-fixtures.js';


describe('PackageManager over an HTTP repository', () => {
  it('installs everything first, then nothing when unchanged, then only the changed test', async () => {
    const root = await tempDir();
    const { tree, repoDir, folder } = await populatedRepository(root);
    const server = await serve(repoDir);
    const autodir = join(root, 'device', 'usr', 'local', 'autotest');
    const runner = new RecordingRunner();
    const { logger, records } = captureLogs();
    const manager = new PackageManager({
      runner,
      autodir,
      repositories: [new HttpRepository(server.url, fast)],
      logger,
    });

    // First install: every package fetched by the device and untarred where autotest puts it.
    const first = await manager.install(ALL_PACKAGES);
    expect(first.map((r) => [r.fileName, r.action])).toEqual([
      ['client-autotest.tar.bz2', 'installed'],
      ['test-alpha.tar.bz2', 'installed'],
      ['test-beta.tar.bz2', 'installed'],
      ['dep-tool.tar.bz2', 'installed'],
    ]);
    expect(await readFile(join(autodir, 'bin', 'autotest.js'), 'utf8')).toContain('client');
    expect(await readFile(join(autodir, 'tests', 'alpha', 'alpha.ts'), 'utf8')).toContain('Alpha');
    expect(await readFile(join(autodir, 'tests', 'beta', 'data', 'input.txt'), 'utf8')).toBe('beta data\n');
    expect(await exists(join(autodir, 'deps', 'tool', 'bin', 'tool.sh'))).toBe(true);
    expect(await exists(join(autodir, 'tests', 'stray.txt'))).toBe(false);
    const repoIndex = await folder.index();
    expect(await readChecksumFile(join(autodir, 'packages', 'packages.checksum'))).toEqual(repoIndex);
    expect((await readFile(join(autodir, 'tests', 'alpha', '.checksum'), 'utf8')).trim()).toBe(
      repoIndex.get('test-alpha.tar.bz2'),
    );

    // Unchanged: one round trip, nothing transferred, and the debug log says so.
    runner.reset();
    const again = await manager.install(ALL_PACKAGES);
    expect(again.every((r) => r.action === 'up-to-date')).toBe(true);
    expect(runner.commands).toHaveLength(1);
    expect(runner.sent).toHaveLength(0);
    expect(records.filter((r) => r.msg === 'up to date, not reinstalled')).toHaveLength(4);

    // One test changes (a file edited, one deleted): only it is fetched, and its old folder is replaced.
    await writeFile(join(tree.testsDir, 'beta', 'control.ts'), 'export default 3;\n');
    await rm(join(tree.testsDir, 'beta', 'data'), { recursive: true });
    expect(
      (await folder.upload(packageRef('test', 'beta'), { dir: join(tree.testsDir, 'beta') })).changed,
    ).toBe(true);
    runner.reset();
    const third = await manager.install(ALL_PACKAGES);
    expect(third.map((r) => r.action)).toEqual(['up-to-date', 'up-to-date', 'installed', 'up-to-date']);
    expect(third[2]!.repository).toBe(server.url);
    expect(runner.commands).toHaveLength(3); // probe, fetch, untar
    expect(await readFile(join(autodir, 'tests', 'beta', 'control.ts'), 'utf8')).toBe('export default 3;\n');
    expect(await exists(join(autodir, 'tests', 'beta', 'data'))).toBe(false);
    expect(await exists(join(autodir, 'tests', 'beta.partial'))).toBe(false);
  });

  it('falls back from a dead HTTP repository to the next one', async () => {
    const root = await tempDir();
    const { repoDir } = await populatedRepository(root);
    const live = await serve(repoDir);
    const dead = await deadUrl();
    const { logger, records } = captureLogs();
    const manager = new PackageManager({
      runner: new RecordingRunner(),
      autodir: join(root, 'device'),
      repositories: [new HttpRepository(dead, fast), new HttpRepository(live.url, fast)],
      logger,
    });
    const results = await manager.install([packageRef('test', 'alpha')]);
    expect(results[0]).toMatchObject({ action: 'installed', repository: live.url });
    expect(records.some((r) => r.msg === 'repository unreachable' && r.repository === dead)).toBe(true);

    // A device folder repository is a fallback too.
    const fromFolder = new PackageManager({
      runner: new RecordingRunner(),
      autodir: join(root, 'device2'),
      repositories: [new HttpRepository(dead, fast), new LocalRepository(repoDir)],
    });
    expect((await fromFolder.install(packageRef('dep', 'tool')))[0]).toMatchObject({
      action: 'installed',
      repository: repoDir,
    });
  });

  it('names the package and every repository when none has it', async () => {
    const root = await tempDir();
    const { repoDir } = await populatedRepository(root);
    const live = await serve(repoDir);
    const dead = await deadUrl();
    const manager = new PackageManager({
      runner: new RecordingRunner(),
      autodir: join(root, 'device'),
      repositories: [new HttpRepository(dead, fast), new HttpRepository(live.url, fast)],
    });
    const error = await manager.install(packageRef('test', 'missing')).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_PACKAGE_NOT_FOUND',
      packageName: 'test-missing.tar.bz2',
      repositories: [dead, live.url],
    });
    expect((error as Error).message).toContain(`${dead}: unreachable`);
    expect((error as Error).message).toContain(`${live.url}: not found`);
  });

  it('builds a package missing everywhere from its source, once for many devices, and pushes it', async () => {
    const root = await tempDir();
    const { tree, repoDir } = await populatedRepository(root);
    const server = await serve(repoDir);
    const builder = new PackageBuilder({ cacheDir: join(root, 'build-cache') });
    const devices = Array.from({ length: 8 }, (_, i) => join(root, `device${i}`));
    const runners = devices.map(() => new RecordingRunner());
    const install = () =>
      Promise.all(
        devices.map((autodir, i) =>
          new PackageManager({
            runner: runners[i]!,
            autodir,
            repositories: [new HttpRepository(server.url, fast)],
            sources: sourcesFromTree(tree),
            builder,
          }).install([packageRef('test', 'alpha'), packageRef('profiler', 'perf')]),
        ),
      );
    const results = await install();
    // alpha comes from the repository; perf is in no repository, so it is built (once) and pushed to each device.
    expect(builder.buildCount).toBe(1);
    for (const [i, result] of results.entries()) {
      expect(result.map((r) => r.repository)).toEqual([server.url, 'autoserv://']);
      expect(runners[i]!.sent).toEqual([join(devices[i]!, 'packages', 'profiler-perf.tar.bz2.part')]);
      expect(await exists(join(devices[i]!, 'profilers', 'perf', 'perf.ts'))).toBe(true);
    }
    runners.forEach((r) => r.reset());
    const again = await install();
    expect(again.flat().every((r) => r.action === 'up-to-date')).toBe(true);
    expect(builder.buildCount).toBe(1);
    expect(runners.every((r) => r.commands.length === 1 && r.sent.length === 0)).toBe(true);
  });
});
