import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { isRoot } from '../helpers/root.js';

// What a user who forgot sudo sees from test_RecallServer: the real test class, run by an unprivileged user.
// The clone may sit in a folder only root can enter, so the user gets a one-file bundle in a readable folder.
const driver = `
import { test_RecallServer } from './site_tests/test_RecallServer/test_RecallServer.ts';
import { silentLogger } from './lib/logging.ts';
const test = new test_RecallServer();
test.attach({ name: 'test_RecallServer', outputDir: process.argv[2], tmpDir: process.argv[2], bindir: process.argv[2], logger: silentLogger, signal: new AbortController().signal, job: undefined });
try {
  await test.initialize({ host: { hostname: '198.18.0.9' }, test: 'dummy_Pass' });
  console.log('initialized');
} catch (error) {
  console.log(error.code + ' ' + error.message);
}
`;

describe.skipIf(!isRoot)('test_RecallServer run without root (needs root to switch user)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('says it needs root, not that a CA folder option is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recall-user-'));
    dirs.push(dir);
    await chmod(dir, 0o777);
    const bundled = join(dir, 'driver.mjs');
    await build({
      stdin: { contents: driver, resolveDir: repoRoot, loader: 'ts', sourcefile: 'driver.ts' },
      outfile: bundled,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      // ssh2's optional native speed-ups: it falls back to JavaScript when they cannot be loaded.
      external: ['*.node'],
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); const __dirname = import.meta.dirname;",
      },
    });
    await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
    const result = await execa(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bundled, dir],
      { reject: false, cwd: dir },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toMatch(
      /^ERR_TEST_ERROR test_RecallServer needs root .* run autoserv or run-remote as root/,
    );
    expect(result.stdout).not.toMatch(/CA folder|writable dir/);
  });
});
