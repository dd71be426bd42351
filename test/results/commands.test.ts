// The commands as a user meets them: on PATH after the README's install step, answering --version, and
// exiting 2 on usage errors (1 is reserved for a test that did not pass).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const OURS = ['autoserv', 'run-remote', 'lab', 'recall', 'packager'];

describe('the commands on PATH', () => {
  it('package.json lists the five commands of the quick start', () => {
    expect(Object.keys(pkg.bin)).toEqual(expect.arrayContaining(OURS));
  });

  it('`npm link` (the README’s install step) puts every command on PATH, callable from any folder', () => {
    // A private npm prefix stands in for /usr/local, so the test leaves the machine's PATH alone.
    const prefix = mkdtempSync(join(tmpdir(), 'npm-prefix-'));
    execFileSync('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: repoRoot, env: { ...process.env, npm_config_prefix: prefix }, stdio: 'pipe' });
    const elsewhere = mkdtempSync(join(tmpdir(), 'elsewhere-'));
    for (const name of Object.keys(pkg.bin)) {
      const run = spawnSync(name, ['--version'], { cwd: elsewhere, env: { ...process.env, PATH: `${join(prefix, 'bin')}:/usr/bin:/bin` }, encoding: 'utf8' });
      expect(run.status, `${name}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toBe(`${name} ${pkg.version}\n`);
    }
  });
});

describe('exit codes', () => {
  it.each(Object.keys(pkg.bin))('%s --version prints the version and exits 0', async (name) => {
    const run = await runCli(name, ['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${name} ${pkg.version}\n` });
  });

  it.each(Object.keys(pkg.bin))('%s with a wrong command line exits 2 and says what is wrong', async (name) => {
    const run = await runCli(name, ['--no-such-flag']);
    expect(run.code).toBe(2);
    // Commands with a required option name that first, others the unknown flag.
    expect(run.stderr).toMatch(/^error: (unknown option '--no-such-flag'|required option '.+' not specified)/m);
  });

  it('run-remote without --remote exits 2, naming the option', async () => {
    const run = await runCli('run-remote', ['dummy_Pass']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--remote <host>' not specified/);
  });

  it.each([
    ['run-remote', ['--remote', '198.18.0.9', '--no-such-flag', 'dummy_Pass']],
    ['autoserv', ['--no-such-flag', 'control.ts']],
    ['autoserv', []],
  ])('%s with a wrong command line %j exits 2', async (name, args) => {
    const run = await runCli(name, args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: (unknown option '--no-such-flag'|missing required argument 'control')/);
  });

  it('--help still exits 0', async () => {
    expect((await runCli('run-remote', ['--help'])).code).toBe(0);
  });
});
