import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';

const resultsRoot = () => join(mkdtempSync(join(tmpdir(), 'run-remote-')), 'results');

describe('run-remote without devices', () => {
  it('names an unknown test, suggests the nearest one, and exits 2', async () => {
    const run = await runCli('run-remote', ['--remote', '198.18.0.9', '--results-dir', resultsRoot(), 'dumy_Pass']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^run-remote: unknown test dumy_Pass: .*did you mean dummy_Pass/m);
  });

  it('requires --remote', async () => {
    const run = await runCli('run-remote', ['dummy_Pass']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--remote <host>' not specified/);
  });
});

describe.skipIf(!isRoot)('run-remote on a lab device (needs root)', () => {
  const lab = useLab({ devices: 1 });

  it('runs a passing and a failing client test and ends with the summary table and results path', async () => {
    const root = resultsRoot();
    const device = lab().devices[0]!.address;
    const run = await runCli('run-remote', ['--remote', device, '--ssh-key', lab().sshKey, '--known-hosts', lab().knownHosts, '--results-dir', root, 'dummy_Pass', 'dummy_Fail']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^dummy_Pass\\s+${device.replace(/\./g, '\\.')}\\s+GOOD\\s+[\\d.]+s\\s*$`, 'm'));
    expect(run.stdout).toMatch(/^dummy_Fail\s+\S+\s+FAIL\s+[\d.]+s\s+dummy_Fail fails on purpose$/m);
    expect(run.stdout).toContain('Total PASS: 1/2 (50%)');
    expect(run.stdout).toContain(`Results: ${root}`);
    expect(run.stderr).toMatch(/dummy_Fail: finished \(exit code 1\)/);
    // Progress as plain lines (stderr is not a terminal): which test runs where, N of M done.
    expect(run.stderr).toMatch(new RegExp(`^\\[0 of 2 done, [\\d.]+s\\] ${device.replace(/\./g, '\\.')}: dummy_Pass running$`, 'm'));
    expect(run.stderr).toMatch(/^\[2 of 2 done, [\d.]+s\] dummy_Fail: finished \(exit code 1\)$/m);
    expect(existsSync(join(root, 'dummy_Fail', 'index.html'))).toBe(true);
    expect(run.stdout).toContain(`Report: ${join(root, 'dummy_Fail', 'index.html')}`);
    expect(readFileSync(join(root, 'dummy_Fail', 'status.log'), 'utf8')).toMatch(/^\tFAIL\tdummy_Fail\tdummy_Fail\t/m);
    expect(existsSync(join(root, 'dummy_Pass', 'dummy_Pass', 'results', 'keyval'))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'dummy_Pass', 'results.json'), 'utf8'))).toMatchObject({ passed: true });
  });

  it('inside `lab run` the commands are on PATH and run-remote uses the lab’s key and known_hosts by default', async () => {
    const root = resultsRoot();
    const run = await lab.lab().run(['sh', '-c', 'cd / && command -v autoserv lab recall packager >/dev/null && run-remote --remote "${LAB_DEVICES%% *}" --results-dir "$0" dummy_Pass', root]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain('Total PASS: 1/1 (100%)');
  });

  it('exits 2 and names the host when the device refuses the connection', async () => {
    const root = resultsRoot();
    const run = await runCli('run-remote', ['--remote', `root@${lab().devices[0]!.address}:2`, '--ssh-key', lab().sshKey, '--known-hosts', lab().knownHosts, '--results-dir', root, 'dummy_Pass']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/dummy_Pass\s+root@\S+:2\s+ERROR/);
    expect(run.stdout).toMatch(/refused|ECONNREFUSED/i);
  });
});
