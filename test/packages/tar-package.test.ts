import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { packageRef, tarPackage, PackageBuilder } from '../../lib/packages/index.js';
import { sourceTree, tempDir, writeFiles } from './package-fixtures.js';

async function listNames(path: string): Promise<string[]> {
  const { stdout } = await execa('tar', ['-tjf', path]);
  return stdout.split('\n').filter(Boolean);
}

describe('tarPackage', () => {
  for (const compressor of ['bzip2', 'lbzip2'] as const) {
    it(`builds a standard .tar.bz2 with ${compressor}, identical bytes for unchanged sources`, async () => {
      const root = await tempDir();
      const tree = await sourceTree(join(root, 'src'));
      const ref = packageRef('test', 'beta');
      const first = await tarPackage(ref, {
        dir: join(tree.testsDir, 'beta'),
        destDir: join(root, 'a'),
        compressor,
      });
      // Same content, new mtimes: the archive must not change.
      await writeFile(join(tree.testsDir, 'beta', 'control.ts'), 'export default 2;\n');
      const second = await tarPackage(ref, {
        dir: join(tree.testsDir, 'beta'),
        destDir: join(root, 'b'),
        compressor,
      });
      expect(first.fileName).toBe('test-beta.tar.bz2');
      expect(second.md5).toBe(first.md5);
      await execa('bzip2', ['-t', first.path]);
      expect(await listNames(first.path)).toEqual(['./', './control.ts', './data/', './data/input.txt']);
      const { stdout } = await execa('tar', ['-tvjf', first.path]);
      expect(stdout).toMatch(/ 0\/0 .* 1970-01-01 /);
    });
  }

  it('applies include and exclude patterns', async () => {
    const root = await tempDir();
    await writeFiles(root, {
      'src/a.ts': '1',
      'src/b.pyc': '2',
      'src/sub/c.ts': '3',
      'src/sub/d.pyc': '4',
      'src/other/e.ts': '5',
    });
    const built = await tarPackage(packageRef('dep', 'mixed'), {
      dir: join(root, 'src'),
      include: ['a.ts', 'b.pyc', 'sub'],
      exclude: ['*.pyc'],
      destDir: join(root, 'out'),
    });
    expect(await listNames(built.path)).toEqual(['a.ts', 'sub/', 'sub/c.ts']);
  });

  it('leaves tests, deps and profilers out of the client package', async () => {
    const root = await tempDir();
    const tree = await sourceTree(join(root, 'src'));
    await writeFiles(tree.clientDir, { 'lib/tests/kept.js': 'nested folders named tests stay\n' });
    const built = await tarPackage(packageRef('client'), { dir: tree.clientDir, destDir: join(root, 'out') });
    expect(built.fileName).toBe('client-autotest.tar.bz2');
    const names = await listNames(built.path);
    expect(names).toContain('./bin/autotest.js');
    expect(names).toContain('./lib/tests/kept.js');
    expect(names.some((n) => n.startsWith('./tests'))).toBe(false);
  });

  it('reports a missing source folder with ERR_PACKAGE_BUILD', async () => {
    const root = await tempDir();
    await expect(
      tarPackage(packageRef('test', 'nope'), { dir: join(root, 'missing'), destDir: root }),
    ).rejects.toMatchObject({
      code: 'ERR_PACKAGE_BUILD',
      message: expect.stringContaining('missing'),
    });
  });
});

describe('PackageBuilder', () => {
  it('builds once for many concurrent requests and reuses unchanged sources', async () => {
    const root = await tempDir();
    const tree = await sourceTree(join(root, 'src'));
    const builder = new PackageBuilder({ cacheDir: join(root, 'cache') });
    const ref = packageRef('test', 'alpha');
    const source = { dir: join(tree.testsDir, 'alpha') };
    const built = await Promise.all(Array.from({ length: 8 }, () => builder.build(ref, source)));
    expect(builder.buildCount).toBe(1);
    expect(new Set(built.map((b) => b.md5)).size).toBe(1);
    // Another process (a new builder on the same cache folder) reuses the archive too.
    const later = new PackageBuilder({ cacheDir: join(root, 'cache') });
    expect((await later.build(ref, source)).md5).toBe(built[0]!.md5);
    expect(later.buildCount).toBe(0);
    await writeFiles(source.dir, { 'alpha.ts': 'export class Alpha { changed = true }\n' });
    expect((await later.build(ref, source)).md5).not.toBe(built[0]!.md5);
    expect(later.buildCount).toBe(1);
  });
});
