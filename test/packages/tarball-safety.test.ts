import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { join } from 'node:path';
import {
  assertEntriesSafe,
  assertTarballSafe,
  packageRef,
  parseTarListing,
  tarPackage,
} from '../../lib/packages/index.js';
import { hostileTarball, type Hostile } from './hostile-tarballs.js';
import { sourceTree, tempDir } from './package-fixtures.js';

describe('tarball safety', () => {
  for (const kind of ['absolute', 'dotdot', 'symlink-out', 'link-through-link'] as Hostile[]) {
    it(`refuses a ${kind} archive, naming the entry`, async () => {
      const root = await tempDir();
      const path = await hostileTarball(
        kind,
        root,
        join(root, 'repo'),
        'test-evil.tar.bz2',
        join(root, 'outside'),
      );
      const error = await assertTarballSafe(path, 'test-evil.tar.bz2').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_PACKAGE_UNSAFE_PATH', packageName: 'test-evil.tar.bz2' });
      expect((error as Error).message).toMatch(/^Refusing to install test-evil\.tar\.bz2: .*"[^"]+"/);
    });
  }

  it('accepts a normal package with links that stay inside', async () => {
    const root = await tempDir();
    const tree = await sourceTree(join(root, 'src'));
    await execa('ln', ['-s', '../control.ts', join(tree.testsDir, 'beta', 'data', 'link')]);
    await execa('ln', ['-s', '.', join(tree.testsDir, 'beta', 'self')]);
    const built = await tarPackage(packageRef('test', 'beta'), {
      dir: join(tree.testsDir, 'beta'),
      destDir: join(root, 'out'),
    });
    await expect(assertTarballSafe(built.path, built.fileName)).resolves.toBeUndefined();
  });

  it('refuses hard links out, device nodes and unreadable listings', () => {
    expect(() => assertEntriesSafe([{ type: 'h', name: './a', target: '../etc/passwd' }], 'p')).toThrow(
      /hard link/,
    );
    expect(() => assertEntriesSafe([{ type: 'h', name: './a', target: '/etc/passwd' }], 'p')).toThrow(
      /hard link/,
    );
    expect(() => assertEntriesSafe([{ type: 'c', name: './null' }], 'p')).toThrow(/device node/);
    expect(() => parseTarListing('something tar never prints', 'p')).toThrow(/cannot read/);
    expect(() => parseTarListing('lrwxrwxrwx 0/0 0 1970-01-01 00:00 ./a -> b -> c', 'p')).toThrow(
      /ambiguous/,
    );
  });

  it('reads GNU and busybox listings', () => {
    const entries = parseTarListing(
      [
        'drwxr-xr-x 0/0               0 1970-01-01 00:00 ./',
        '-rw-r--r-- root/root         3 1970-01-01 00:00 ./sp ace.txt',
        'hrw-r--r-- 0/0               0 1970-01-01 00:00 ./hard link to ./sp ace.txt',
        'lrwxrwxrwx 0/0 0 1970-01-01 00:00:00 ./sub/l -> ../x',
      ].join('\n'),
      'p',
    );
    expect(entries).toEqual([
      { type: 'd', name: './' },
      { type: '-', name: './sp ace.txt' },
      { type: 'h', name: './hard', target: './sp ace.txt' },
      { type: 'l', name: './sub/l', target: '../x' },
    ]);
  });

  it('reports an archive that is not bzip2 as corrupt', async () => {
    const root = await tempDir();
    await execa('sh', ['-c', `echo garbage > ${join(root, 'x.tar.bz2')}`]);
    await expect(assertTarballSafe(join(root, 'x.tar.bz2'), 'x')).rejects.toMatchObject({
      code: 'ERR_PACKAGE_CORRUPT',
    });
  });
});
