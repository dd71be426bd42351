import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeyvals } from '../../lib/keyval.js';
import { collectTestResults } from '../../lib/results/test-results.js';
import { runCli, startCli } from '../helpers/cli.js';
import { fixtureTestsDir } from '../helpers/job.js';
import { useLab } from '../helpers/lab.js';
import { isRoot } from '../helpers/root.js';
import { dropSshSessions } from '../helpers/ssh-sessions.js';

const control = new URL('../fixtures/control/client-tests.ts', import.meta.url).pathname;

describe.skipIf(!isRoot)('client tests on lab devices (needs root)', () => {
  const lab = useLab({ devices: 2 });
  const sshArgs = () => ['--ssh-key', lab().sshKey, '--known-hosts', lab().knownHosts, '--tests-dir', fixtureTestsDir];
  const results = () => join(mkdtempSync(join(tmpdir(), 'client-harness-')), 'results');

  it('runs a passing and a failing client test, nests their status lines, and fetches their results', async () => {
    const dir = results();
    const device = lab().devices[0]!.address;
    const run = await runCli('autoserv', ['-r', dir, '-m', device, ...sshArgs(), '-a', 'tests=dummy_Pass,dummy_Fail,platform_OsRelease', control]);
    expect(run.code, run.stderr).toBe(1);
    const status = readFileSync(join(dir, 'status.log'), 'utf8');
    expect(status).toMatch(/^START\tdummy_Pass\tdummy_Pass\t/m);
    expect(status).toMatch(/^\tGOOD\tdummy_Pass\tdummy_Pass\t.*completed successfully$/m);
    expect(status).toMatch(/^\tFAIL\tdummy_Fail\tdummy_Fail\t.*dummy_Fail fails on purpose$/m);
    expect(collectTestResults(status).tests.map((t) => [t.name, t.status])).toEqual([
      ['dummy_Pass', 'GOOD'],
      ['dummy_Fail', 'FAIL'],
      ['platform_OsRelease', 'GOOD'],
    ]);
    // Results fetched from the device: iteration keyvals, the test's debug log, the client job's status.
    expect(readFileSync(join(dir, 'dummy_Pass', 'results', 'keyval'), 'utf8')).toBe('iteration{perf}=1\n\n');
    expect(existsSync(join(dir, 'dummy_Pass', 'debug', 'dummy_Pass.DEBUG'))).toBe(true);
    expect(readFileSync(join(dir, 'dummy_Fail', 'client.status'), 'utf8')).toMatch(/FAIL\tdummy_Fail/);
    const identity = parseKeyvals(readFileSync(join(dir, 'platform_OsRelease', 'keyval'), 'utf8'));
    expect(identity.hostname).toBe(lab().devices[0]!.hostname);
    expect(identity.os_id).toBeTruthy();
  });

  it('ends the run at once, naming the exception, when the client harness dies without an exit code', async () => {
    const dir = results();
    const device = lab().devices[0]!.address;
    // The harness dies 0.3 s into a test that would wait 10 minutes.
    const run = await runCli('autoserv', ['-r', dir, '-m', device, ...sshArgs(), '-a', 'tests=fixture_LateThrow', control]);
    expect(run.code, run.stderr).toBe(1);
    const tests = collectTestResults(readFileSync(join(dir, 'status.log'), 'utf8')).tests;
    expect(tests.map((t) => [t.name, t.status])).toEqual([['fixture_LateThrow', 'ABORT']]);
    expect(tests[0]!.reason).toMatch(/client harness on .* ended without an exit code \(pid \d+ is gone\): .*late boom from a timer the test left behind/);
  }, 120_000);

  it('reinstalls nothing on a second run and says so in the debug log', async () => {
    const device = lab().devices[1]!.address;
    await runCli('autoserv', ['-r', results(), '-m', device, ...sshArgs(), '-a', 'tests=dummy_Pass', control]);
    const dir = results();
    const again = await runCli('autoserv', ['-r', dir, '-m', device, ...sshArgs(), '-a', 'tests=dummy_Pass', control]);
    expect(again.code, again.stderr).toBe(0);
    const debug = readFileSync(join(dir, 'debug', 'autoserv.DEBUG'), 'utf8');
    expect(debug).toContain('client-autotest.tar.bz2: up-to-date');
    expect(debug).toContain('test-dummy_Pass.tar.bz2: up-to-date');
    expect(debug).not.toMatch(/: installed"/);
  });

  it('re-attaches after the SSH connection drops mid-test, and the result still arrives', async () => {
    const dir = results();
    const device = lab().devices[0]!;
    const run = startCli('autoserv', ['-r', dir, '-m', device.address, ...sshArgs(), '-a', 'tests=fixture_ClientSleep sleep=6', control]);
    const statusLog = join(dir, 'status.log');
    while (!(existsSync(statusLog) && readFileSync(statusLog, 'utf8').includes('START\tfixture_ClientSleep'))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // Kill the device's SSH session processes (the children of its sshd listener): the connection drops,
    // the detached client job goes on.
    expect(dropSshSessions(device.namespace)).toBeGreaterThan(0);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(collectTestResults(readFileSync(statusLog, 'utf8')).tests).toMatchObject([{ name: 'fixture_ClientSleep', status: 'GOOD' }]);
    // The host's connection was re-established (a second 'connected') and the job followed on from there.
    expect(readFileSync(join(dir, 'debug', 'autoserv.DEBUG'), 'utf8')).toMatch(/"connectCount":2,"msg":"connected"/);
    expect(readFileSync(join(dir, 'fixture_ClientSleep', 'results', 'keyval'), 'utf8')).toContain('slept_seconds{perf}=6');
  });

  it('runs client tests on two devices in parallel, each in its own folder', async () => {
    const dir = results();
    const [a, b] = lab().devices;
    const run = await runCli('autoserv', ['-r', dir, '-m', `${a!.address},${b!.address}`, ...sshArgs(), '-a', 'tests=dummy_Pass', control]);
    expect(run.code, run.stderr).toBe(0);
    for (const device of [a!, b!]) {
      expect(readFileSync(join(dir, device.address, 'dummy_Pass', 'results', 'keyval'), 'utf8')).toBe('iteration{perf}=1\n\n');
    }
    const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(json.tests.map((t: { machine: string; status: string }) => [t.machine, t.status]).sort()).toEqual([
      [a!.address, 'GOOD'],
      [b!.address, 'GOOD'],
    ]);
  });
});
