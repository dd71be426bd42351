import { describe, expect, it, onTestFinished } from 'vitest';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readChecksumFile } from '../../lib/packages/index.js';
import { sourceTree, tempDir, writeFiles } from './package-fixtures.js';

const packager = fileURLToPath(new URL('../../bin/packager.js', import.meta.url));

describe('packager command', () => {
  it('uploads all packages, skips unchanged ones, removes packages and rewrites the index', async () => {
    const root = await tempDir();
    const tree = await sourceTree(join(root, 'src'));
    const repo = join(root, 'repo');
    const dirs = [
      '--client-dir',
      tree.clientDir,
      '--tests-dir',
      tree.testsDir,
      '--deps-dir',
      tree.depsDir,
      '--profilers-dir',
      tree.profilersDir,
    ];
    const first = await execa('node', [packager, 'upload', '-r', repo, '--all', ...dirs]);
    const lines = first.stdout.split('\n').sort();
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'uploaded client-autotest.tar.bz2',
      'uploaded dep-tool.tar.bz2',
      'uploaded profiler-perf.tar.bz2',
      'uploaded test-alpha.tar.bz2',
      'uploaded test-beta.tar.bz2',
    ]);
    const index = await readChecksumFile(join(repo, 'packages.checksum'));
    expect(index.size).toBe(5);
    expect(await readFile(join(repo, 'packages.checksum'), 'utf8')).toMatch(
      /^[0-9a-f]{32} client-autotest\.tar\.bz2\n/,
    );

    await writeFiles(tree.testsDir, { 'alpha/alpha.ts': 'export class Alpha { v = 2 }\n' });
    const second = await execa('node', [packager, 'upload', '-r', repo, '-t', 'alpha,beta', ...dirs]);
    expect(
      second.stdout
        .split('\n')
        .map((l) => l.split(' ').slice(0, 2).join(' '))
        .sort(),
    ).toEqual(['unchanged test-beta.tar.bz2', 'uploaded test-alpha.tar.bz2']);

    const removed = await execa('node', [
      packager,
      'remove',
      '-r',
      repo,
      'test:beta',
      'profiler-perf.tar.bz2',
    ]);
    expect(removed.stdout).toBe('removed test-beta.tar.bz2\nremoved profiler-perf.tar.bz2');
    expect([...(await readChecksumFile(join(repo, 'packages.checksum'))).keys()].sort()).toEqual([
      'client-autotest.tar.bz2',
      'dep-tool.tar.bz2',
      'test-alpha.tar.bz2',
    ]);
    const reindexed = await execa('node', [packager, 'checksum', '-r', repo]);
    expect(reindexed.stdout.split('\n')).toHaveLength(3);

    const missing = await execa('node', [packager, 'upload', '-r', repo, '-t', 'nosuch', ...dirs], {
      reject: false,
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/test "nosuch" not found.*\[ERR_PACKAGE_NOT_FOUND\]/);
  });

  it('serves a repository over HTTP', async () => {
    const root = await tempDir();
    await writeFiles(root, { 'repo/packages.checksum': 'd41d8cd98f00b204e9800998ecf8427e test-a.tar.bz2\n' });
    const child = execa('node', [packager, 'serve', '--dir', join(root, 'repo'), '--port', '0']);
    onTestFinished(async () => {
      child.kill();
      await child.catch(() => undefined); // killed on purpose
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const match = /at (http:\/\/\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      child.catch(reject);
    });
    expect(await (await fetch(`${url}/packages.checksum`)).text()).toContain('test-a.tar.bz2');
  });
});
